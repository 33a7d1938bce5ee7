using System.Diagnostics;

namespace Relay.Delivery.Ipsec;

/// <summary>The output of one whack run; <see cref="TimedOut"/>: killed at the deadline (its output so far is kept).</summary>
public sealed record WhackResult(int? ExitCode, string Output, bool TimedOut, string? StartFailure = null);

/// <summary>
/// Runs <c>ipsec whack --ctlsocket PATH …</c> with a deadline. whack blocks while pluto negotiates (retransmitting to a
/// silent peer for a minute), so every call is killed at its deadline and the caller reads the state afterwards.
/// </summary>
public sealed class WhackRunner(string command, string controlSocket)
{
    public async Task<WhackResult> RunAsync(IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("whack");
        start.ArgumentList.Add("--ctlsocket");
        start.ArgumentList.Add(controlSocket);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new WhackResult(null, "", false, $"cannot run {command} whack: {e.Message}");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            var output = await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return new WhackResult(timedOut ? null : process.ExitCode, output, timedOut);
        }
    }
}
