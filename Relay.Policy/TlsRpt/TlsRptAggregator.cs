namespace Relay.Policy.TlsRpt;

/// <summary>
/// Sums recorded sessions into one report: a `policies` entry per distinct policy, with its successful and failed session
/// counts and its failures grouped by result type and the addresses and names known for them (RFC 8460 §4.4). Sessions
/// that do not count (<see cref="TlsRptSession.Counts"/>) are left out; a failure is counted once, under its result type.
/// A pure function: the same rows give the same report, whoever builds it.
/// </summary>
public static class TlsRptAggregator
{
    public static TlsRptReport Build(string domain, DateOnly day, string organization, string contact, string submitter, IEnumerable<TlsRptSession> sessions)
    {
        var policies = sessions.Where(s => s.Counts)
            .GroupBy(s => s.Policy)
            .Select(g => new TlsRptPolicyResult(
                g.Key,
                g.Where(s => s.Succeeded).Sum(s => s.Count),
                g.Where(s => !s.Succeeded).Sum(s => s.Count),
                g.Where(s => !s.Succeeded)
                    .GroupBy(s => (Type: s.ResultType!.Value, s.SendingIp, s.ReceivingMx, s.ReceivingIp, s.ReceivingHelo))
                    .Select(f => new TlsRptFailure(f.Key.Type, f.Key.SendingIp, f.Key.ReceivingMx, f.Key.ReceivingIp, f.Key.ReceivingHelo, f.Sum(s => s.Count)))
                    .OrderBy(f => f.ResultType.ToWire(), StringComparer.Ordinal)
                    .ThenBy(f => f.ReceivingMx, StringComparer.Ordinal)
                    .ThenBy(f => f.ReceivingIp, StringComparer.Ordinal)
                    .ThenBy(f => f.SendingIp, StringComparer.Ordinal)
                    .ToList()))
            .OrderBy(p => p.Policy.Type)
            .ThenBy(p => string.Join('\n', p.Policy.MxHosts), StringComparer.Ordinal)
            .ThenBy(p => string.Join('\n', p.Policy.Strings), StringComparer.Ordinal)
            .ToList();
        return new TlsRptReport(domain, day, organization, contact, TlsRptReport.IdFor(domain, day, submitter), policies);
    }
}
