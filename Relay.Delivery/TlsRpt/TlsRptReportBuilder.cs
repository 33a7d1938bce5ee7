using Relay.Db;
using Relay.Policy.TlsRpt;

namespace Relay.Delivery.TlsRpt;

/// <summary>A domain's report for one UTC day, from what delivery recorded (Relay.Policy sums it; this only reads and maps).</summary>
public sealed class TlsRptReportBuilder(RelayDatabase database, TlsRptOptions options)
{
    public async Task<TlsRptReport> BuildAsync(string domain, DateOnly day, CancellationToken cancellationToken)
    {
        var rows = await database.TlsRptReader.ReadDayAsync(domain, day, cancellationToken).ConfigureAwait(false);
        return TlsRptAggregator.Build(domain, day, options.OrganizationName, options.ContactInfo, options.Submitter, rows.Select(TlsRptRows.Session));
    }
}
