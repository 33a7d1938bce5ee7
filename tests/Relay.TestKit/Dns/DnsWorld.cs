using System.Net;

namespace Relay.TestKit.Dns;

/// <summary>
/// A running private DNS tree (see <see cref="DnsWorldBuilder"/>). <see cref="Resolver"/> is the validating
/// unbound to mark trusted; <see cref="Authoritative"/> is nsd, which never sets AD and must be untrusted.
/// Dispose kills both servers and deletes the temporary directory.
/// </summary>
public sealed class DnsWorld : IAsyncDisposable, IDisposable
{
    private const int MaxStartAttempts = 5;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private readonly ServerProcess _nsd;
    private readonly ServerProcess _unbound;
    private int _disposed;

    private DnsWorld(string directory, IPEndPoint authoritative, IPEndPoint resolver, ServerProcess nsd, ServerProcess unbound, string rootDs)
    {
        Directory = directory;
        Authoritative = authoritative;
        Resolver = resolver;
        _nsd = nsd;
        _unbound = unbound;
        RootTrustAnchor = rootDs;
    }

    /// <summary>Temp directory with keys, zone files, configs and logs (kept until dispose; useful when a test fails).</summary>
    public string Directory { get; }

    /// <summary>nsd, serving every zone of the world (authoritative only, no recursion, no AD bit).</summary>
    public IPEndPoint Authoritative { get; }

    /// <summary>Validating unbound with the private root's DS as its only trust anchor.</summary>
    public IPEndPoint Resolver { get; }

    /// <summary>The root DS record unbound trusts (presentation format).</summary>
    public string RootTrustAnchor { get; }

    /// <summary>unbound's log; attach it to assertion messages when a status is not what a test expected.</summary>
    public string ResolverLog => ReadQuietly(Path.Combine(Directory, "unbound.log")) + _unbound.Output;

    public string AuthoritativeLog => ReadQuietly(Path.Combine(Directory, "nsd.log")) + _nsd.Output;

    internal static async Task<DnsWorld> StartAsync(DnsWorldBuilder builder, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "relay-dns-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        try
        {
            var signer = new DnsZoneSigner(directory);
            var keys = new Dictionary<string, DnsZoneSigner.Keys>(StringComparer.Ordinal);
            foreach (var zone in builder.Zones.Where(z => z.Signed))
                keys[zone.Name] = await signer.CreateKeysAsync(zone.Name).ConfigureAwait(false);
            var ds = keys.ToDictionary(k => k.Key, k => k.Value.Ds, StringComparer.Ordinal);

            var (nsd, nsdAddress) = await StartNsdAsync(builder, signer, keys, ds, directory, cancellationToken).ConfigureAwait(false);
            try
            {
                var (unbound, unboundAddress) = await StartUnboundAsync(directory, nsdAddress, ds["."], builder.Zones.Select(z => z.Name), cancellationToken).ConfigureAwait(false);
                return new DnsWorld(directory, new IPEndPoint(nsdAddress, 53), new IPEndPoint(unboundAddress, 53), nsd, unbound, ds["."]);
            }
            catch
            {
                nsd.Dispose();
                throw;
            }
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    private static async Task<(ServerProcess, IPAddress)> StartNsdAsync(DnsWorldBuilder builder, DnsZoneSigner signer,
        Dictionary<string, DnsZoneSigner.Keys> keys, Dictionary<string, string> ds, string directory, CancellationToken ct)
    {
        var nsdPath = ToolRunner.Find("nsd");
        var failures = new List<string>();
        for (var attempt = 0; attempt < MaxStartAttempts; attempt++)
        {
            // The root zone names nsd's address (ns. A), so a new address means signing again.
            var address = LoopbackAddress.RandomFree(53);
            var zoneFiles = new List<(string Zone, string File)>();
            foreach (var zone in builder.Zones)
            {
                var text = builder.ZoneText(zone, address, ds);
                var file = zone.Signed
                    ? await signer.SignAsync(zone, text, keys[zone.Name]).ConfigureAwait(false)
                    : signer.WriteUnsigned(zone, text);
                zoneFiles.Add((zone.Name, file));
            }
            var conf = Path.Combine(directory, "nsd.conf");
            File.WriteAllText(conf, NsdConfig(directory, address, zoneFiles));
            var nsd = ServerProcess.Start(nsdPath, "-d", "-c", conf);
            if (await WaitReadyAsync(nsd, new IPEndPoint(address, 53), ".", recursion: false, ct).ConfigureAwait(false))
                return (nsd, address);
            failures.Add($"{address}: {nsd.Output}{ReadQuietly(Path.Combine(directory, "nsd.log"))}");
            nsd.Dispose();
        }
        throw new InvalidOperationException("nsd did not start: " + string.Join("\n---\n", failures));
    }

    private static async Task<(ServerProcess, IPAddress)> StartUnboundAsync(string directory, IPAddress nsdAddress, string rootDs,
        IEnumerable<string> zones, CancellationToken ct)
    {
        var unboundPath = ToolRunner.Find("unbound");
        File.WriteAllText(Path.Combine(directory, "root.hints"), $". 3600000 IN NS ns.\nns. 3600000 IN A {nsdAddress}\n");
        File.WriteAllText(Path.Combine(directory, "root.ds"), rootDs + "\n");
        var failures = new List<string>();
        for (var attempt = 0; attempt < MaxStartAttempts; attempt++)
        {
            var address = LoopbackAddress.RandomFree(53);
            var conf = Path.Combine(directory, "unbound.conf");
            File.WriteAllText(conf, UnboundConfig(directory, address, zones));
            var unbound = ServerProcess.Start(unboundPath, "-d", "-c", conf);
            if (await WaitReadyAsync(unbound, new IPEndPoint(address, 53), "ns.", recursion: true, ct).ConfigureAwait(false))
                return (unbound, address);
            failures.Add($"{address}: {unbound.Output}{ReadQuietly(Path.Combine(directory, "unbound.log"))}");
            unbound.Dispose();
        }
        throw new InvalidOperationException("unbound did not start: " + string.Join("\n---\n", failures));
    }

    private static async Task<bool> WaitReadyAsync(ServerProcess process, IPEndPoint endpoint, string name, bool recursion, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            if (process.HasExited) return false;
            // rcode 0 means the server is up and (for unbound) reached nsd and validated the root.
            if (await DnsProbe.AskAsync(endpoint, name, 1, recursion, TimeSpan.FromMilliseconds(300)).ConfigureAwait(false) == 0)
                return true;
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        return false;
    }

    private static string NsdConfig(string dir, IPAddress address, List<(string Zone, string File)> zones)
    {
        var zoneBlocks = string.Concat(zones.Select(z => $"zone:\n    name: \"{z.Zone}\"\n    zonefile: \"{z.File}\"\n"));
        return $"""
            server:
                ip-address: {address}
                port: 53
                do-ip6: no
                username: ""
                chroot: ""
                zonesdir: "{dir}"
                database: ""
                pidfile: "{dir}/nsd.pid"
                logfile: "{dir}/nsd.log"
                xfrdfile: "{dir}/xfrd.state"
                xfrdir: "{dir}"
                zonelistfile: "{dir}/zone.list"
                server-count: 1
                verbosity: 1
                reuseport: no
                refuse-any: no
            remote-control:
                control-enable: no
            {zoneBlocks}
            """;
    }

    /// <summary>
    /// unbound answers some names itself (RFC 6761 "test.", "invalid.", AS112 reverse zones such as
    /// 10.in-addr.arpa.): "nodefault" for every zone of the world and its ancestors lets them through to nsd.
    /// </summary>
    private static string NoDefaultZones(IEnumerable<string> zones)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var zone in zones)
        {
            for (var name = zone; name != "."; name = name[(name.IndexOf('.') + 1)..] is { Length: > 0 } rest ? rest : ".")
                names.Add(name);
        }
        return string.Concat(names.Select(n => $"    local-zone: \"{n}\" nodefault\n"));
    }

    private static string UnboundConfig(string dir, IPAddress address, IEnumerable<string> zones) => $"""
        server:
            interface: {address}
            port: 53
            do-ip4: yes
            do-ip6: no
            do-udp: yes
            do-tcp: yes
            chroot: ""
            username: ""
            directory: "{dir}"
            pidfile: "{dir}/unbound.pid"
            logfile: "{dir}/unbound.log"
            use-syslog: no
            verbosity: 1
            val-log-level: 2
            num-threads: 1
            so-reuseport: no
            access-control: 127.0.0.0/8 allow
            do-not-query-localhost: no
            root-hints: "{dir}/root.hints"
            trust-anchor-file: "{dir}/root.ds"
            module-config: "validator iterator"
            ede: yes
            qname-minimisation: no
            aggressive-nsec: no
            prefetch: no
            minimal-responses: no
            val-bogus-ttl: 1
            infra-host-ttl: 60
        {NoDefaultZones(zones)}
        remote-control:
            control-enable: no
        """;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _unbound.Dispose();
        _nsd.Dispose();
        TryDelete(Directory);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private static void TryDelete(string directory)
    {
        try { System.IO.Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string ReadQuietly(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path) : ""; } catch (IOException) { return ""; }
    }
}
