using Relay.Db;
using Relay.Delivery.Planning;
using Relay.Policy;
using Relay.Policy.Classification;
using Relay.Policy.TlsRpt;

namespace Relay.Delivery.TlsRpt;

/// <summary>
/// The TLS-RPT columns of an attempt row (migration 0006), at the Db boundary: the policy Relay.Policy names for the
/// session, and the facts the session saw. Nothing here decides whether or how the attempt is reported.
/// </summary>
internal static class TlsRptRows
{
    public static TlsRptFacts ForPeer(HopPlan hop, PeerTarget target, AttemptReport report) =>
        Facts(TlsRptPolicy.For(hop.Plan, target.Plan), report.LocalAddress, report.PeerHelo);

    public static TlsRptFacts ForHop(HopPlan hop, TlsRptResult? resultType) => Facts(TlsRptPolicy.ForFailedPlan(hop.Plan, resultType), null, null);

    /// <summary>Back from the row: the policy as Relay.Policy knows it. Rows from before migration 0006 have no policy type:
    /// their TLSA records (recorded since the first schema) still say whether DANE applied.</summary>
    public static TlsRptPolicy Policy(TlsRptRow row) => row.PolicyType is { } type
        ? new TlsRptPolicy(TlsRptPolicyTypeWire.Parse(type), row.PolicyStrings, row.MxHosts)
        : row.TlsaRecords.Count > 0 && row.PeerName is { } host
            ? new TlsRptPolicy(TlsRptPolicyType.Tlsa, row.TlsaRecords, [host])
            : TlsRptPolicy.NoPolicyFound;

    public static TlsRptSession Session(TlsRptRow row) => new(Policy(row), row.TlsEstablished,
        row.ResultType is null ? null : TlsRptResultWire.Parse(row.ResultType), row.SendingIp, row.PeerName, row.PeerAddress, row.ReceivingHelo, row.Count);

    private static TlsRptFacts Facts(TlsRptPolicy policy, string? sendingIp, string? helo) =>
        new(policy.Type.ToWire(), policy.Strings, policy.MxHosts, sendingIp, helo);
}
