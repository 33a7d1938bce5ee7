using Relay.Dns;

namespace Relay.Policy.TlsRpt;

/// <summary>The I/O half of discovery: asks `_smtp._tls.DOMAIN` TXT (RFC 8460 §3) and hands the records to <see cref="TlsRptRecord"/>.</summary>
public sealed class TlsRptLookup(IDnsResolver resolver)
{
    public static string RecordName(string domain) => "_smtp._tls." + domain.TrimEnd('.').ToLowerInvariant();

    public async Task<TlsRptDiscovery> DiscoverAsync(string domain, CancellationToken cancellationToken)
    {
        var answer = await resolver.QueryAsync(RecordName(domain), DnsType.TXT, cancellationToken).ConfigureAwait(false);
        return answer switch
        {
            DnsResult.Secure or DnsResult.Insecure => TlsRptRecord.Parse(answer.RecordsOf<TxtRecord>().Select(r => r.Text)),
            DnsResult.NxDomain or DnsResult.NoData => new TlsRptDiscovery.NotWanted($"{RecordName(domain)} has no TXT record"),
            // A bogus or failed answer is no instruction: sending the report somewhere an attacker named is worse than not sending it.
            _ => new TlsRptDiscovery.NotWanted($"{RecordName(domain)} TXT lookup failed: {answer}"),
        };
    }
}
