using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Relay.TestKit;

/// <summary>Small helpers for starting the real servers the tests run against.</summary>
public static class Processes
{
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Runs a program to completion and returns its output; throws with stdout/stderr on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}");
        }
        var output = await stdout + await stderr;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', info.ArgumentList)} exited {process.ExitCode}: {output}");
        return await stdout;
    }

    /// <summary>Runs a shell command as another user (PostgreSQL refuses to run as root).</summary>
    public static Task<string> RunAsUserAsync(string user, string shellCommand, TimeSpan timeout) =>
        IsRoot ? RunAsync("su", [user, "-s", "/bin/sh", "-c", shellCommand], timeout) : RunAsync("/bin/sh", ["-c", shellCommand], timeout);

    /// <summary>A TCP port that was free a moment ago on the address (the caller retries on a race).</summary>
    public static int FreeTcpPort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string Quote(string value) => "'" + value.Replace("'", "'\"'\"'") + "'";
}
