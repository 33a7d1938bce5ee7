namespace Relay.Policy.TlsRpt;

/// <summary>One `failure-details` entry of RFC 8460 §4.4: alike failed sessions, counted.</summary>
public sealed record TlsRptFailure(TlsRptResult ResultType, string? SendingIp, string? ReceivingMx, string? ReceivingIp, string? ReceivingHelo, long Count);

/// <summary>One entry of `policies`: a policy, its session counts and its failures.</summary>
public sealed record TlsRptPolicyResult(TlsRptPolicy Policy, long Successful, long Failed, IReadOnlyList<TlsRptFailure> Failures);

/// <summary>
/// An RFC 8460 §4 report: one recipient (policy) domain and one UTC day, the 24 hours from 00:00:00Z (RFC 8460 §4.1: a
/// report covers one full UTC day). <see cref="Organization"/> and <see cref="Contact"/> are Relay:TlsRpt's keys.
/// </summary>
public sealed record TlsRptReport(
    string Domain,
    DateOnly Day,
    string Organization,
    string Contact,
    string ReportId,
    IReadOnlyList<TlsRptPolicyResult> Policies)
{
    public DateTimeOffset Start => new(Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>The last second of the day, as the RFC's own example ends its range (23:59:59Z).</summary>
    public DateTimeOffset End => Start.AddDays(1).AddSeconds(-1);

    public long Successful => Policies.Sum(p => p.Successful);
    public long Failed => Policies.Sum(p => p.Failed);

    /// <summary>A day without one counted session has nothing to report.</summary>
    public bool IsEmpty => Policies.Count == 0;

    /// <summary>Stable for one domain, day and submitter, so a report built again (`relay tlsrpt show`) keeps its id; shaped like a
    /// Message-ID (dot-atom@domain), as RFC 8460 §5.3 puts it in the subject between angle brackets.</summary>
    public static string IdFor(string domain, DateOnly day, string submitter) => $"{day:yyyyMMdd}.{domain}@{submitter}";
}
