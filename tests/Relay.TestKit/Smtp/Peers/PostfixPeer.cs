using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Relay.TestKit.Smtp.Peers;

/// <summary>One smtpd listener of a <see cref="PostfixPeer"/>: its address, and whether it offers STARTTLS.</summary>
public sealed record PostfixListener(IPAddress Address, int Port, bool StartTls)
{
    public string Route => $"[{Address}]:{Port}";
}

/// <summary>
/// A private receiving Postfix (Debian package) for delivery tests: its own config, queue and log in a
/// temp directory; smtpd listeners on random 127.x.y.z addresses, some with STARTTLS and a certificate
/// made by the test, some without; everything accepted from loopback is relayed to `discard:`, and the
/// log (maillog_file) says what arrived and how TLS went. Needs root, like the Postfix master.
/// </summary>
public sealed class PostfixPeer : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = PostfixDirectory.CommandTimeout;

    private PostfixPeer(string directory, IReadOnlyList<PostfixListener> listeners)
    {
        Directory = directory;
        Listeners = listeners;
    }

    public string Directory { get; }
    public IReadOnlyList<PostfixListener> Listeners { get; }
    public string LogFile => PostfixDirectory.LogFile(Directory);

    public static bool Available => File.Exists("/usr/sbin/postfix") && File.Exists("/usr/lib/postfix/sbin/smtpd") && Processes.IsRoot;

    /// <param name="certificate">Server certificate with private key, used by every STARTTLS listener.</param>
    /// <param name="listeners">One entry per smtpd service: true offers STARTTLS.</param>
    public static async Task<PostfixPeer> StartAsync(X509Certificate2 certificate, params bool[] listeners)
    {
        var directory = await PostfixDirectory.CreateAsync("relay-postfix-peer-");
        var keyFile = Path.Combine(directory, "key.pem");
        var certFile = Path.Combine(directory, "cert.pem");
        using (var key = certificate.GetECDsaPrivateKey() ?? (System.Security.Cryptography.AsymmetricAlgorithm?)certificate.GetRSAPrivateKey())
            await File.WriteAllTextAsync(keyFile, key!.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(certFile, certificate.ExportCertificatePem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var bound = listeners.Select(tls => new PostfixListener(Dns.LoopbackAddress.RandomFree(25), 25, tls)).ToList();
        var main = PostfixDirectory.MainCf(directory, "postfix-peer.test", "test");
        main.AddRange([
            // Postfix refuses inet_interfaces it cannot find on an interface (127.x.y.z is only routed to lo);
            // the master.cf services name their own addresses, which bind fine.
            "inet_interfaces = loopback-only",
            "mynetworks = 127.0.0.0/8",
            "smtpd_relay_restrictions = permit_mynetworks, reject",
            "relay_domains =",
            "default_transport = discard:delivered by the test peer",
            "relay_transport = discard:delivered by the test peer",
            $"smtpd_tls_chain_files = {keyFile}, {certFile}",
            "smtpd_tls_loglevel = 1",
            "smtpd_tls_received_header = yes",
            "smtpd_banner = $myhostname ESMTP test peer",
        ]);
        await File.WriteAllLinesAsync(Path.Combine(directory, "main.cf"), main);
        var services = bound.Select(l =>
            $"{l.Address}:{l.Port} inet n - n - - smtpd -o smtpd_tls_security_level={(l.StartTls ? "may" : "none")}");
        await File.WriteAllTextAsync(Path.Combine(directory, "master.cf"),
            string.Join("\n", services) + "\n" + PostfixDirectory.MasterServices(smtpClient: false));
        var peer = new PostfixPeer(directory, bound);
        try
        {
            await PostfixDirectory.StartAsync(directory);
            await peer.WaitForListenersAsync();
        }
        catch (Exception e)
        {
            // Postfix prints its fatal errors only to a terminal (or syslog, absent here): ask again under `script`.
            var why = "";
            try { why = await Processes.RunAsync("script", ["-qc", $"/usr/sbin/postfix -c {directory} check", "/dev/null"], CommandTimeout); }
            catch (Exception inner) { why = inner.Message; }
            await peer.DisposeAsync();
            throw new InvalidOperationException($"Postfix peer did not start: {why.Trim()}", e);
        }
        return peer;
    }

    private async Task WaitForListenersAsync()
    {
        var deadline = DateTime.UtcNow + CommandTimeout;
        foreach (var listener in Listeners)
        {
            while (true)
            {
                try
                {
                    using var client = new System.Net.Sockets.TcpClient();
                    await client.ConnectAsync(listener.Address, listener.Port);
                    break;
                }
                catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100);
                }
            }
        }
    }

    public string Log() => PostfixDirectory.ReadLog(Directory);

    /// <summary>Waits until the log has a line containing every one of <paramref name="parts"/>; returns it.</summary>
    public async Task<string> WaitForLogLineAsync(TimeSpan timeout, params string[] parts)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var line = Log().Split('\n').FirstOrDefault(l => parts.All(p => l.Contains(p, StringComparison.Ordinal)));
            if (line is not null) return line;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no Postfix log line with {string.Join(" + ", parts)}:\n{Log()}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync() => await PostfixDirectory.StopAndDeleteAsync(Directory);
}
