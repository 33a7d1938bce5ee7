using System.Net;
using Relay.Dns;

namespace Relay.Policy.Planning;

/// <summary>A host's A and AAAA answers folded into one status. Conservative on purpose: a bogus or failed
/// answer for either family makes the host unusable for this attempt rather than silently half-used.</summary>
internal sealed record HostAddresses(AddressDnssec Status, IReadOnlyList<IPAddress> Addresses, DnsCnameChain? Chain, string? Problem)
{
    public static HostAddresses From(DnsResult a, DnsResult aaaa)
    {
        DnsResult[] both = [a, aaaa];
        if (both.FirstOrDefault(r => r is DnsResult.Bogus) is { } bogus)
            return new(AddressDnssec.Bogus, [], null, $"address lookup failed DNSSEC validation ({bogus})");
        if (both.FirstOrDefault(r => r is DnsResult.Error) is DnsResult.Error error)
            return new(AddressDnssec.Error, [], null, $"address lookup failed ({error.Kind}: {error.Reason})");
        var addresses = a.RecordsOf<ARecord>().Select(r => r.Address).Concat(aaaa.RecordsOf<AaaaRecord>().Select(r => r.Address)).ToArray();
        var secure = both.All(r => r is DnsResult.Secure or DnsResult.NoData { IsSecure: true } or DnsResult.NxDomain { IsSecure: true });
        var status = secure ? AddressDnssec.Secure : AddressDnssec.Insecure;
        var chain = a.RecordsOf<ARecord>().Count > 0 ? a.Chain : aaaa.RecordsOf<AaaaRecord>().Count > 0 ? aaaa.Chain : a.Chain;
        if (addresses.Length == 0) return new(status, [], chain, "host has no A or AAAA records");
        return new(status, addresses, chain, null);
    }
}
