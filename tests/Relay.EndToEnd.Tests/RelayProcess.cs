using System.Diagnostics;
using System.Text;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// The real `relay` executable (relay.dll, copied beside this test assembly by the project reference),
/// run as a child process with configuration passed through environment variables.
/// </summary>
public sealed class RelayProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private RelayProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string RelayDll => Path.Combine(AppContext.BaseDirectory, "relay.dll");

    public int Id => process.Id;

    public string Output { get { lock (output) return output.ToString(); } }

    public bool HasExited => process.HasExited;

    public static RelayProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = Info(environment, arguments);
        return new RelayProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start relay"));
    }

    /// <summary>
    /// As <see cref="Start"/>, with the relay's open-file limit (`ulimit -n`, soft and hard) set to <paramref name="openFiles"/>.
    /// Both: .NET raises the soft limit to the hard one when it starts, so a soft limit alone would not hold.
    /// </summary>
    public static RelayProcess StartWithOpenFileLimit(int openFiles, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        new(Process.Start(WithOpenFileLimit(openFiles, Info(environment, arguments))) ?? throw new InvalidOperationException("could not start relay"));

    /// <summary>As <see cref="RunAsync"/>, under an open-file limit (soft and hard).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunWithOpenFileLimitAsync(int openFiles,
        IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        using var process = Process.Start(WithOpenFileLimit(openFiles, Info(environment, arguments)))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"relay {string.Join(' ', arguments)} did not exit within 60 s; killed. Output:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    // bash sets the limit and then becomes dotnet (exec), so the process id is the relay's own.
    private static ProcessStartInfo WithOpenFileLimit(int openFiles, ProcessStartInfo info)
    {
        var arguments = info.ArgumentList.ToList();
        info.FileName = "bash";
        info.ArgumentList.Clear();
        foreach (var argument in (string[])["-c", $"ulimit -n {openFiles} && exec dotnet \"$@\"", "bash"]) info.ArgumentList.Add(argument);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return info;
    }

    /// <summary>The relay's resident memory now (VmRSS), in KiB; null once it has exited.</summary>
    public long? ResidentKiB()
    {
        try
        {
            var line = File.ReadLines($"/proc/{process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        catch (IOException) { return null; }
    }

    /// <summary>Descriptors the relay has open now (null once it has exited).</summary>
    public int? OpenDescriptors()
    {
        try { return Directory.GetFileSystemEntries($"/proc/{process.Id}/fd").Length; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Runs a command to completion: exit code, stdout and stderr.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string> environment,
        params string[] arguments) => RunWithInputAsync(environment, "", arguments);

    /// <summary>As <see cref="RunAsync"/>, with <paramref name="input"/> on standard input, which is then closed
    /// (a command that reads stdin, like `relay web hash-password`, sees end of input rather than waiting).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunWithInputAsync(IReadOnlyDictionary<string, string> environment,
        string input, params string[] arguments)
    {
        using var process = Process.Start(Info(environment, arguments))!;
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // A command that should have exited (a refused configuration) but serves instead must not outlive the
            // test: it would keep ports, and the build lock descriptor it inherited, until someone kills it.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"relay {string.Join(' ', arguments)} did not exit within 60 s; killed. Output:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; throws with the output when it does not in time.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"relay exited ({process.ExitCode}) before printing '{text}':\n{Output}");
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"relay did not print '{text}' within {timeout}:\n{Output}");
            await Task.Delay(25);
        }
    }

    public void Kill() => process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM, as an init system stops a service.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return process.ExitCode;
    }

    private static ProcessStartInfo Info(IReadOnlyDictionary<string, string> environment, string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(RelayDll);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        // Nothing from the developer's environment may configure the relay under test.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("Relay__", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(key);
        // Many relays run at once in these tests: each gets its own metrics port unless the test names one.
        info.Environment["Relay__Metrics__Listen"] = "127.0.0.1:0";
        foreach (var (key, value) in environment) info.Environment[key] = value;
        return info;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
