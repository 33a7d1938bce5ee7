using System.Diagnostics;

namespace Relay.TestKit.Smtp;

/// <summary>
/// A private Postfix (Debian package) that relays everything to one next hop: its own config and queue in a
/// temp directory, no inet listener, mail injected with its sendmail. Logs to a file inside the directory
/// (there is no syslog here). Needs root, like the Postfix master.
/// </summary>
public sealed class PostfixInstance : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private PostfixInstance(string directory) => Directory = directory;

    public string Directory { get; }
    public string LogFile => Path.Combine(Directory, "maillog");

    public static bool Available => File.Exists("/usr/sbin/postfix") && File.Exists("/usr/lib/postfix/sbin/master") && Processes.IsRoot;

    /// <param name="relayHost">Postfix relayhost syntax, e.g. <c>[127.0.0.1]:2525</c>.</param>
    public static async Task<PostfixInstance> StartAsync(string relayHost, string tlsLevel = "may", IEnumerable<string>? extraMainCf = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("relay-postfix-").FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "queue"));
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "data"));
        await Processes.RunAsync("chown", ["postfix", Path.Combine(directory, "data")], CommandTimeout);
        var main = new List<string>
        {
            "compatibility_level = 3.6",
            $"queue_directory = {directory}/queue",
            $"data_directory = {directory}/data",
            "command_directory = /usr/sbin",
            "daemon_directory = /usr/lib/postfix/sbin",
            "meta_directory = /etc/postfix",
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "myhostname = postfix.test.example",
            "mydomain = test.example",
            "myorigin = postfix.test.example",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mydestination =",
            $"relayhost = {relayHost}",
            $"smtp_tls_security_level = {tlsLevel}",
            "smtp_tls_loglevel = 1",
            $"maillog_file = {directory}/maillog",
            $"maillog_file_prefixes = {directory}",
            "alias_maps =",
            "alias_database =",
            "local_recipient_maps =",
            "smtp_host_lookup = native",
            "smtp_dns_support_level = disabled",
            "queue_run_delay = 1s",
            "minimal_backoff_time = 1s",
            "maximal_backoff_time = 2s",
        };
        main.AddRange(extraMainCf ?? []);
        await File.WriteAllLinesAsync(Path.Combine(directory, "main.cf"), main);
        await File.WriteAllTextAsync(Path.Combine(directory, "master.cf"), """
            pickup    unix  n       -       n       1       1       pickup
            cleanup   unix  n       -       n       -       0       cleanup
            qmgr      unix  n       -       n       300     1       qmgr
            tlsmgr    unix  -       -       n       1000?   1       tlsmgr
            rewrite   unix  -       -       n       -       -       trivial-rewrite
            bounce    unix  -       -       n       -       0       bounce
            defer     unix  -       -       n       -       0       bounce
            trace     unix  -       -       n       -       0       bounce
            verify    unix  -       -       n       -       1       verify
            flush     unix  n       -       n       1000?   0       flush
            proxymap  unix  -       -       n       -       -       proxymap
            smtp      unix  -       -       n       -       -       smtp
            relay     unix  -       -       n       -       -       smtp
            showq     unix  n       -       n       -       -       showq
            error     unix  -       -       n       -       -       error
            retry     unix  -       -       n       -       -       error
            discard   unix  -       -       n       -       -       discard
            anvil     unix  -       -       n       -       1       anvil
            scache    unix  -       -       n       -       1       scache
            postlog   unix-dgram n  -       n       -       1       postlogd
            """.Replace("\n            ", "\n").TrimStart());
        var instance = new PostfixInstance(directory);
        try { await Processes.RunAsync("/usr/sbin/postfix", ["-c", directory, "start"], CommandTimeout); }
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

    public string Log() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public async ValueTask DisposeAsync()
    {
        try { await Processes.RunAsync("/usr/sbin/postfix", ["-c", Directory, "stop"], CommandTimeout); }
        catch (Exception) { /* not running: nothing to stop */ }
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
