using System.Diagnostics;
using Xunit.Abstractions;

namespace Relay.Deploy.Tests;

/// <summary>
/// Runs deploy/compose-test: docker-compose.yml's stack for real on a private Docker daemon (images built from Debian
/// packages, ports on 127.0.0.1), one message relayed through it to the mail store, then everything torn down. The
/// script's output is this test's output; it fails, never skips, when Docker cannot run here (CI installs it).
/// </summary>
public sealed class ComposeStackTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task The_compose_stack_relays_a_message_to_the_mail_store()
    {
        var script = Path.Combine(RepositoryRoot(), "deploy", "compose-test");
        var start = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var lines = new List<string>();
        void Collect(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (lines) lines.Add(e.Data);
            output.WriteLine(e.Data);
        }
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM, not a kill: the script's trap takes the stack down and stops its daemon.
            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
            // Its trap runs once the command in progress ends (each is bounded by a timeout of at most 5 minutes).
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(6));
            Assert.Fail($"deploy/compose-test ran longer than {Deadline.TotalMinutes} minutes");
        }
        process.WaitForExit(); // the output handlers have seen every line
        string all;
        lock (lines) all = string.Join('\n', lines);
        Assert.True(process.ExitCode == 0, $"deploy/compose-test exited {process.ExitCode}:\n{all}");
        Assert.Matches(@"compose-test: \S+ PASSED", all);
        Assert.Contains("check-stack: ok: relay tlsa", all);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "relay.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no relay.sln above {AppContext.BaseDirectory}");
    }
}
