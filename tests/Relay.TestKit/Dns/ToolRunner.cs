using System.Diagnostics;

namespace Relay.TestKit.Dns;

/// <summary>Runs a command-line tool to completion with a deadline and returns its stdout; failures throw with stderr.</summary>
internal static class ToolRunner
{
    public static async Task<string> RunAsync(string file, IEnumerable<string> args, string workingDirectory, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', psi.ArgumentList)} did not finish in time");
        }
        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', psi.ArgumentList)} exited {process.ExitCode}: {errors}{output}");
        return output;
    }

    /// <summary>Finds a tool in the usual Debian locations (tests run without /usr/sbin on PATH sometimes).</summary>
    public static string Find(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]))
        {
            if (dir.Length == 0) continue;
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        throw new InvalidOperationException($"{name} is not installed (Debian packages nsd, unbound, ldnsutils)");
    }
}
