using System.Diagnostics;
using System.Text;

namespace Relay.TestKit.Dns;

/// <summary>
/// A daemon started in the foreground by path, with its output kept for diagnostics. A small shell
/// watchdog stops it (TERM, then KILL) if the test process dies without disposing, so crashed runs leave no servers behind.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private Process? _watchdog;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, Process? watchdog)
    {
        _process = process;
        _watchdog = watchdog;
    }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static ServerProcess Start(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi };
        var server = new ServerProcess(process, null);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        server._watchdog = StartWatchdog(Environment.ProcessId, process.Id);
        return server;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private static Process? StartWatchdog(int parent, int child)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"while kill -0 {parent} 2>/dev/null && kill -0 {child} 2>/dev/null; do sleep 1; done; kill {child} 2>/dev/null; sleep 2; kill -9 {child} 2>/dev/null; exit 0");
        try { return Process.Start(psi); } catch { return null; }
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        try { _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        try { if (_watchdog is { HasExited: false }) _watchdog.Kill(); } catch (InvalidOperationException) { }
        _watchdog?.Dispose();
        _process.Dispose();
    }
}
