using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;

namespace Relay.TestKit.Ipsec;

/// <summary>
/// Two network namespaces this fixture creates, joined by a veth pair (10.211.0.1 "relay" side, 10.211.0.2 "peer" side;
/// those addresses exist only inside the namespaces), with a real libreswan pluto in each, started by path as
/// TESTING.md describes. Both run the five OE conns with authby=null (RFC 7619); the peer's clear-or-private group covers
/// the relay's side, the relay's groups are whatever Relay writes into <see cref="RelayPolicyDirectory"/>.
/// keyingtries=1 and retransmit-timeout=2s keep a silent peer's failure within a test's deadline.
/// With <c>peerSignsWithKey</c> the pair runs RFC 4322's authenticated OE instead (libreswan's dnsoe tests): the peer signs
/// with an RSA host key made for it in its NSS database (<see cref="PeerPublicKey"/>, for the test's IPSECKEY record) and
/// keeps its IKE id, its address; the relay side stays NULL-authenticated itself but demands a signature from the peer
/// (rightauth=rsasig), so IKE succeeds only with the peer's key loaded into the relay's pluto.
/// </summary>
public sealed class PlutoPair : IAsyncDisposable
{
    public static readonly IPAddress RelayAddress = IPAddress.Parse("10.211.0.1");
    public static readonly IPAddress PeerAddress = IPAddress.Parse("10.211.0.2");
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);

    private readonly string id;
    private readonly string root;

    private PlutoPair(string id, string root)
    {
        this.id = id;
        this.root = root;
    }

    public string RelayNamespace => "rlA" + id;
    public string PeerNamespace => "rlB" + id;
    public string RelayControlSocket => Path.Combine(root, "relay", "run", "pluto.ctl");
    public string PeerControlSocket => Path.Combine(root, "peer", "run", "pluto.ctl");
    public string RelayPolicyDirectory => Path.Combine(root, "relay", "policies");
    public string RelayLog => Read(Path.Combine(root, "relay", "pluto.log"));
    public string PeerLog => Read(Path.Combine(root, "peer", "pluto.log"));

    /// <summary>The peer's RSA public key (RFC 3110 base64, as an IPSECKEY record carries it); null unless it signs with one.</summary>
    public string? PeerPublicKey { get; private set; }

    /// <summary>Whether this kernel can install an ESP SA (probed once in the relay's namespace, see <see cref="ProbeKernelEspAsync"/>).</summary>
    public bool KernelHasEsp { get; private set; }

    public static bool Available => File.Exists("/usr/libexec/ipsec/pluto") && File.Exists("/usr/sbin/ipsec") && Processes.IsRoot;

    public static async Task<PlutoPair> StartAsync(bool peerSignsWithKey = false)
    {
        if (!Available) throw new InvalidOperationException("libreswan (apt-get install libreswan) and root are needed for the IPsec tests");
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
        var pair = new PlutoPair(id, Directory.CreateTempSubdirectory("relay-pluto-").FullName);
        try
        {
            await pair.CreateNetworkAsync();
            pair.KernelHasEsp = await pair.ProbeKernelEspAsync();
            await pair.StartPlutoAsync("relay", pair.RelayNamespace, RelayAddress, groups: new Dictionary<string, string>(),
                peerSignsWithKey ? "\tleftauth=null\n\tleftid=%null\n\trightauth=rsasig\n" : NullAuthentication);
            await pair.StartPlutoAsync("peer", pair.PeerNamespace, PeerAddress,
                groups: new Dictionary<string, string> { ["clear-or-private"] = "10.211.0.0/24\n" }, peerSignsWithKey ? null : NullAuthentication);
            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    private async Task CreateNetworkAsync()
    {
        string a = RelayNamespace, b = PeerNamespace, va = $"rv{id}a", vb = $"rv{id}b";
        await Ip("netns", "add", a);
        await Ip("netns", "add", b);
        await Ip("link", "add", va, "type", "veth", "peer", "name", vb);
        await Ip("link", "set", va, "netns", a);
        await Ip("link", "set", vb, "netns", b);
        await Ip("-n", a, "addr", "add", RelayAddress + "/24", "dev", va);
        await Ip("-n", b, "addr", "add", PeerAddress + "/24", "dev", vb);
        foreach (var (ns, dev) in new[] { (a, va), (b, vb) })
        {
            await Ip("-n", ns, "link", "set", dev, "up");
            await Ip("-n", ns, "link", "set", "lo", "up");
        }
    }

    /// <summary>
    /// TESTING.md: XFRM without ESP answers `ip xfrm state add … proto esp` with "Requested type not found". The probe adds
    /// one ESP SA with throwaway keys in the relay's namespace and deletes it again; any other failure is an error.
    /// </summary>
    private async Task<bool> ProbeKernelEspAsync()
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var auth = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var (code, output) = await RunAsync("ip", ["-n", RelayNamespace, "xfrm", "state", "add", "src", RelayAddress.ToString(), "dst",
            PeerAddress.ToString(), "proto", "esp", "spi", "0x1001", "mode", "transport", "enc", "cbc(aes)", "0x" + key, "auth", "hmac(sha256)", "0x" + auth]);
        if (code == 0)
        {
            await Ip("-n", RelayNamespace, "xfrm", "state", "flush");
            return true;
        }
        if (output.Contains("Requested type not found", StringComparison.Ordinal) || output.Contains("Function not implemented", StringComparison.Ordinal))
            return false;
        throw new InvalidOperationException("the kernel ESP probe failed in an unexpected way: " + output);
    }

    private const string NullAuthentication = "\tleftid=%null\n\trightid=%null\n\tauthby=null\n";

    /// <param name="authentication">The OE conns' authentication lines; null: sign with a host key made here (the peer).</param>
    private async Task StartPlutoAsync(string side, string ns, IPAddress address, IReadOnlyDictionary<string, string> groups, string? authentication)
    {
        var dir = Path.Combine(root, side);
        foreach (var sub in new[] { "nss", "policies", "run" }) Directory.CreateDirectory(Path.Combine(dir, sub));
        var nss = Path.Combine(dir, "nss");
        await Processes.RunAsync("certutil", ["-N", "-d", "sql:" + nss, "--empty-password"], CommandTimeout);
        if (authentication is null)
        {
            await Processes.RunAsync("ipsec", ["newhostkey", "--nssdir", nss], CommandTimeout);
            // newhostkey names the CKAID only on a terminal; the key list names it always.
            var list = await Processes.RunAsync("ipsec", ["showhostkey", "--nssdir", nss, "--list"], CommandTimeout);
            var ckaid = System.Text.RegularExpressions.Regex.Match(list, "ckaid: ([0-9a-f]+)").Groups[1].Value;
            if (ckaid.Length == 0) throw new InvalidOperationException("ipsec showhostkey --list named no CKAID: " + list);
            var shown = await Processes.RunAsync("ipsec", ["showhostkey", "--nssdir", nss, "--left", "--ckaid", ckaid], CommandTimeout);
            PeerPublicKey = System.Text.RegularExpressions.Regex.Match(shown, "leftrsasigkey=0s(\\S+)").Groups[1].Value;
            if (PeerPublicKey.Length == 0) throw new InvalidOperationException("ipsec showhostkey printed no key: " + shown);
            authentication = $"\tleftauth=rsasig\n\tleftckaid={ckaid}\n\trightauth=null\n\trightid=%null\n";
        }
        await File.WriteAllTextAsync(Path.Combine(dir, "ipsec.conf"), Config(dir, address, authentication));
        await File.WriteAllTextAsync(Path.Combine(dir, "ipsec.secrets"), "");
        foreach (var group in new[] { "clear", "clear-or-private", "private-or-clear", "private", "block" })
            await File.WriteAllTextAsync(Path.Combine(dir, "policies", group), groups.GetValueOrDefault(group, ""));
        var socket = Path.Combine(dir, "run", "pluto.ctl");
        await Processes.RunAsync("ip", ["netns", "exec", ns, "/usr/libexec/ipsec/pluto", "--config", Path.Combine(dir, "ipsec.conf"),
            "--rundir", Path.Combine(dir, "run"), "--nssdir", Path.Combine(dir, "nss"), "--ipsecdir", dir,
            "--secretsfile", Path.Combine(dir, "ipsec.secrets"), "--logfile", Path.Combine(dir, "pluto.log")], CommandTimeout);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(socket))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"pluto ({side}) made no control socket:\n{Read(Path.Combine(dir, "pluto.log"))}");
            await Task.Delay(20);
        }
        await Processes.RunAsync("ip", ["netns", "exec", ns, "ipsec", "addconn", "--config", Path.Combine(dir, "ipsec.conf"), "--ctlsocket", socket, "--autoall"], CommandTimeout);
        await Processes.RunAsync("ip", ["netns", "exec", ns, "ipsec", "whack", "--ctlsocket", socket, "--listen"], CommandTimeout);
    }

    /// <summary>The five OE conns of libreswan's policy groups on this namespace's own address, with the given authentication.</summary>
    private static string Config(string dir, IPAddress left, string authentication)
    {
        var oe = "\ttype=tunnel\n\tleft={0}\n" + authentication.Replace("{", "{{").Replace("}", "}}") + "\tright=%opportunisticgroup\n\tikev2=insist\n" +
                 "\tkeyingtries=1\n\tretransmit-timeout=2s\n\tnegotiationshunt={1}\n\tfailureshunt={2}\n\tauto={3}\n";
        return $"config setup\n\tipsecdir={dir}\n\tnssdir={dir}/nss\n\tlogfile={dir}/pluto.log\n\tdumpdir={dir}/run\n\n" +
               $"conn clear\n\ttype=passthrough\n\tauthby=never\n\tleft={left}\n\tright=%group\n\tauto=route\n\n" +
               $"conn block\n\ttype=reject\n\tauthby=never\n\tleft={left}\n\tright=%group\n\tauto=route\n\n" +
               "conn private\n" + string.Format(oe, left, "hold", "drop", "route") + "\n" +
               "conn private-or-clear\n" + string.Format(oe, left, "passthrough", "passthrough", "route") + "\n" +
               "conn clear-or-private\n" + string.Format(oe, left, "passthrough", "passthrough", "add") + "\n";
    }

    /// <summary>Stops the peer's pluto (by its pid file): the peer host stays, but nobody answers IKE there any more.</summary>
    public Task StopPeerPlutoAsync() => StopPlutoAsync("peer");

    /// <summary>whack against one side's pluto (its control socket is a file, reachable from outside the namespace).</summary>
    public Task<string> WhackAsync(bool relaySide, params string[] arguments) =>
        Processes.RunAsync("ipsec", ["whack", "--ctlsocket", relaySide ? RelayControlSocket : PeerControlSocket, .. arguments], CommandTimeout);

    private async Task StopPlutoAsync(string side)
    {
        var pidFile = Path.Combine(root, side, "run", "pluto.pid");
        if (!File.Exists(pidFile) || !int.TryParse((await File.ReadAllTextAsync(pidFile)).Trim(), out var pid)) return;
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(wait.Token);
        }
        catch (ArgumentException) { /* already gone */ }
    }

    public async ValueTask DisposeAsync()
    {
        await StopPlutoAsync("relay");
        await StopPlutoAsync("peer");
        // Deleting the namespaces removes the veth pair with them.
        await RunAsync("ip", ["netns", "del", RelayNamespace]);
        await RunAsync("ip", ["netns", "del", PeerNamespace]);
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static Task<string> Ip(params string[] arguments) => Processes.RunAsync("ip", arguments, CommandTimeout);

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : "";
}
