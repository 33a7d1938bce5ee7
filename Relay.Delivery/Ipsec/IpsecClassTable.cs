using System.Net;
using Relay.Policy;

namespace Relay.Delivery.Ipsec;

/// <summary>
/// The operator's IPsec classes per destination prefix (ipsec_policies), answered by longest-prefix match, IPv4 and IPv6
/// apart (an IPv4-mapped IPv6 peer is looked up as IPv4). A peer no prefix covers is <c>clear</c>: OE is opt-in per prefix.
/// </summary>
public sealed class IpsecClassTable(IEnumerable<(IPNetwork Prefix, IpsecClass Class)> entries)
{
    private readonly (IPNetwork Prefix, IpsecClass Class)[] entries = entries.OrderByDescending(e => e.Prefix.PrefixLength).ToArray();

    public static IpsecClassTable Empty { get; } = new([]);

    public IReadOnlyList<(IPNetwork Prefix, IpsecClass Class)> Entries => entries;

    public (IpsecClass Class, IPNetwork? Prefix) Classify(IPAddress peer)
    {
        if (peer.IsIPv4MappedToIPv6) peer = peer.MapToIPv4();
        foreach (var (prefix, cls) in entries)
            if (prefix.BaseAddress.AddressFamily == peer.AddressFamily && prefix.Contains(peer))
                return (cls, prefix);
        return (IpsecClass.Clear, null);
    }

    /// <summary>Reads the rows as stored (prefix text, class word); a row that does not parse is an error naming it.</summary>
    public static IpsecClassTable FromRows(IEnumerable<(string Prefix, string Class)> rows)
    {
        var list = new List<(IPNetwork, IpsecClass)>();
        foreach (var (prefix, cls) in rows)
        {
            if (!IPNetwork.TryParse(prefix, out var network)) throw new FormatException($"ipsec_policies: bad prefix '{prefix}'");
            if (!NetworkWire.TryParseClass(cls, out var c)) throw new FormatException($"ipsec_policies: unknown class '{cls}' for {prefix}");
            list.Add((network, c));
        }
        return new IpsecClassTable(list);
    }
}
