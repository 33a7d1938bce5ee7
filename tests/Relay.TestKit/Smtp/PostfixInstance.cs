using System.Diagnostics;

namespace Relay.TestKit.Smtp;

/// <summary>
/// A private Postfix (Debian package) that relays everything to one next hop: its own config and queue in a
/// temp directory, no inet listener, mail injected with its sendmail. Logs to a file inside the directory
/// (there is no syslog here). Needs root, like the Postfix master.
/// </summary>
public sealed class PostfixInstance : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = PostfixDirectory.CommandTimeout;

    private PostfixInstance(string directory) => Directory = directory;

    public string Directory { get; }
    public string LogFile => PostfixDirectory.LogFile(Directory);

    public static bool Available => File.Exists("/usr/sbin/postfix") && File.Exists("/usr/lib/postfix/sbin/master") && Processes.IsRoot;

    /// <param name="relayHost">Postfix relayhost syntax, e.g. <c>[127.0.0.1]:2525</c>.</param>
    /// <param name="nameserver">A resolver (port 53) for this instance alone: Postfix resolves through libc, so the
    /// instance runs in a mount namespace of its own where /etc/resolv.conf names it (with trust-ad, so the AD bit
    /// reaches Postfix's DNSSEC checks). The host's resolv.conf is never touched.</param>
    public static async Task<PostfixInstance> StartAsync(string relayHost, string tlsLevel = "may", IEnumerable<string>? extraMainCf = null,
        System.Net.IPAddress? nameserver = null)
    {
        var directory = await PostfixDirectory.CreateAsync("relay-postfix-");
        var main = PostfixDirectory.MainCf(directory, "postfix.test.example", "test.example");
        main.AddRange([
            "inet_interfaces = 127.0.0.1",
            $"relayhost = {relayHost}",
            $"smtp_tls_security_level = {tlsLevel}",
            "smtp_tls_loglevel = 1",
            "smtp_host_lookup = native",
            "smtp_dns_support_level = disabled",
            "queue_run_delay = 1s",
            "minimal_backoff_time = 1s",
            "maximal_backoff_time = 2s",
        ]);
        main.AddRange(extraMainCf ?? []);
        await File.WriteAllLinesAsync(Path.Combine(directory, "main.cf"), main);
        await File.WriteAllTextAsync(Path.Combine(directory, "master.cf"), PostfixDirectory.MasterServices(smtpClient: true));
        var instance = new PostfixInstance(directory);
        try
        {
            if (nameserver is null)
            {
                await PostfixDirectory.StartAsync(directory);
            }
            else
            {
                var resolvConf = Path.Combine(directory, "resolv.conf");
                await File.WriteAllTextAsync(resolvConf, $"nameserver {nameserver}\noptions trust-ad edns0\n");
                await Processes.RunAsync("unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c",
                    $"mount --bind {Processes.Quote(resolvConf)} /etc/resolv.conf && exec /usr/sbin/postfix -c {Processes.Quote(directory)} start"], CommandTimeout);
            }
        }
        catch
        {
            await instance.DisposeAsync();
            throw;
        }
        return instance;
    }

    /// <summary>Injects a message with Postfix's sendmail (LF line ends are fine; -i: a lone "." line is content).</summary>
    public async Task SendAsync(string sender, string recipient, string content)
    {
        var info = new ProcessStartInfo("/usr/sbin/sendmail") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-C", Directory, "-i", "-f", sender, "--", recipient }) info.ArgumentList.Add(argument);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start sendmail");
        await process.StandardInput.WriteAsync(content);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(CommandTimeout);
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0) throw new InvalidOperationException($"sendmail exited {process.ExitCode}: {await process.StandardError.ReadToEndAsync()}");
    }

    /// <summary>Asks the queue manager to retry deferred mail now.</summary>
    public Task FlushAsync() => Processes.RunAsync("/usr/sbin/postqueue", ["-c", Directory, "-f"], CommandTimeout);

    public string Log() => PostfixDirectory.ReadLog(Directory);

    public async ValueTask DisposeAsync() => await PostfixDirectory.StopAndDeleteAsync(Directory);
}
