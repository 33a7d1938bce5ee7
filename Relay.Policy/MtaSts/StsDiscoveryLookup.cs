using Relay.Dns;

namespace Relay.Policy.MtaSts;

/// <summary>The I/O half of discovery: asks `_mta-sts.DOMAIN` TXT and hands the records to <see cref="StsTxtRecord"/>.</summary>
public sealed class StsDiscoveryLookup(IDnsResolver resolver)
{
    public static string RecordName(string domain) => "_mta-sts." + domain.TrimEnd('.').ToLowerInvariant();

    public async Task<StsDiscovery> DiscoverAsync(string domain, CancellationToken cancellationToken)
    {
        var answer = await resolver.QueryAsync(RecordName(domain), DnsType.TXT, cancellationToken).ConfigureAwait(false);
        return answer switch
        {
            DnsResult.Secure or DnsResult.Insecure => StsTxtRecord.Parse(answer.RecordsOf<TxtRecord>().Select(r => r.Text)),
            DnsResult.NxDomain or DnsResult.NoData => new StsDiscovery.NotAvailable($"{RecordName(domain)} has no TXT record"),
            // RFC 8461 §3.1: a failed lookup is "no policy available"; a cached unexpired policy still applies.
            _ => new StsDiscovery.NotAvailable($"{RecordName(domain)} TXT lookup failed: {answer}"),
        };
    }
}
