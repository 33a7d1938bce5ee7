using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Relay.Dns;

/// <summary>
/// The resolver's instruments (System.Diagnostics.Metrics, exported by the executable with every "Relay.*" meter):
/// every answer a caller got, by record type, DNSSEC status and kind of answer, and whether it came from the cache;
/// the duration of lookups that went to a server.
/// </summary>
public static class DnsMetrics
{
    public const string MeterName = "Relay.Dns";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Results = Meter.CreateCounter<long>("results_total", "{answer}",
        "DNS answers given to callers, by type, status (secure, insecure, bogus, error), answer (records, nxdomain, nodata, bogus, error) and source (cache, network).");
    private static readonly Histogram<double> LookupDuration = Meter.CreateHistogram<double>("lookup_duration_seconds", "s",
        "Duration of DNS lookups that went to a server (CNAME chains and TCP retries included).");

    internal static void Result(DnsResult result, bool cached)
    {
        var answer = result switch
        {
            DnsResult.Secure or DnsResult.Insecure => "records",
            DnsResult.NxDomain => "nxdomain",
            DnsResult.NoData => "nodata",
            DnsResult.Bogus => "bogus",
            _ => "error",
        };
        Results.Add(1, new TagList
        {
            { "type", DnsTypes.ToText(result.Type) }, { "status", result.Status }, { "answer", answer }, { "source", cached ? "cache" : "network" },
        });
    }

    internal static void Lookup(DnsType type, TimeSpan duration) =>
        LookupDuration.Record(duration.TotalSeconds, new TagList { { "type", DnsTypes.ToText(type) } });
}
