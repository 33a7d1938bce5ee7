using System.Net;
using System.Text;

namespace Relay.TestKit.Dns;

/// <summary>
/// Describes a private DNS tree and starts it: every zone is served by one nsd, a validating unbound
/// uses the private root as its only trust anchor. Zones are delegated from their nearest enclosing zone
/// in the world (the root is always there and always signed); signed children get a DS in the parent,
/// unsigned ones an insecure delegation.
/// </summary>
/// <example>
/// <code>
/// var b = new DnsWorldBuilder();
/// b.Zone("example.org", signed: true).Add("@ MX 10 mx", "mx A 127.1.2.3", "_25._tcp.mx TLSA 3 1 1 " + hex);
/// await using var world = await b.StartAsync();
/// // world.Resolver: validating unbound (trust its AD bit); world.Authoritative: nsd (never trust AD)
/// </code>
/// </example>
public sealed class DnsWorldBuilder
{
    public const uint DefaultTtl = 300;

    private readonly Dictionary<string, DnsZoneSpec> _zones = new(StringComparer.Ordinal);

    public DnsWorldBuilder()
    {
        _zones["."] = new DnsZoneSpec(".", signed: true);
    }

    /// <summary>The zone named <paramref name="name"/>, created on first use. The root is always signed.</summary>
    public DnsZoneSpec Zone(string name, bool signed = true)
    {
        var key = DnsZoneSpec.Absolute(name, ".");
        if (_zones.TryGetValue(key, out var zone))
        {
            if (zone.Signed != signed) throw new InvalidOperationException($"zone {key} already declared with signed={zone.Signed}");
            return zone;
        }
        if (key == "." && !signed) throw new InvalidOperationException("the root of a test world is always signed");
        if (key == "ns.") throw new InvalidOperationException("'ns.' is the world's name server host name");
        return _zones[key] = new DnsZoneSpec(key, signed);
    }

    public IReadOnlyCollection<DnsZoneSpec> Zones => _zones.Values;

    /// <summary>Signs the zones, starts nsd and unbound on fresh 127.x.y.z addresses (port 53), waits until both answer.</summary>
    public Task<DnsWorld> StartAsync(CancellationToken cancellationToken = default) =>
        DnsWorld.StartAsync(this, cancellationToken);

    /// <summary>Nearest enclosing zone of <paramref name="zone"/> in this world.</summary>
    internal DnsZoneSpec ParentOf(DnsZoneSpec zone)
    {
        var name = zone.Name;
        while (true)
        {
            var dot = name.IndexOf('.');
            name = dot == name.Length - 1 ? "." : name[(dot + 1)..];
            if (_zones.TryGetValue(name, out var parent)) return parent;
        }
    }

    /// <summary>The master file text before signing: SOA, apex NS, the test's records, delegations with DS.</summary>
    internal string ZoneText(DnsZoneSpec zone, IPAddress nameServer, IReadOnlyDictionary<string, string> dsByZone)
    {
        var sb = new StringBuilder();
        sb.Append("$ORIGIN ").Append(zone.Name).Append('\n');
        sb.Append("$TTL ").Append(DefaultTtl).Append('\n');
        var mailbox = zone.Name == "." ? "hostmaster." : "hostmaster." + zone.Name;
        // SOA minimum = TTL: the negative TTL a resolver reports is then DefaultTtl.
        sb.Append($"@ IN SOA ns. {mailbox} 1 3600 600 86400 {DefaultTtl}\n");
        sb.Append("@ IN NS ns.\n");
        if (zone.Name == ".") sb.Append($"ns. IN A {nameServer}\n");
        foreach (var record in zone.Records) sb.Append(record).Append('\n');
        foreach (var child in _zones.Values.Where(c => c.Name != "." && ParentOf(c) == zone))
        {
            sb.Append(child.Name).Append(" IN NS ns.\n");
            if (child.Signed) sb.Append(dsByZone[child.Name]).Append('\n');
        }
        return sb.ToString();
    }
}
