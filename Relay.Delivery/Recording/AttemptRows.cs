using Relay.Db;
using Relay.Delivery.Planning;
using Relay.Policy;
using Relay.Policy.Classification;
using Relay.Smtp.Client;

namespace Relay.Delivery.Recording;

/// <summary>
/// The Db boundary of an attempt: Relay.Policy's typed plan and outcome become the words of delivery_attempts, through
/// Policy's one mapping per vocabulary. Nothing here decides anything; it copies what the classifier said.
/// </summary>
internal static class AttemptRows
{
    /// <summary>A session with one peer (or an attempt to open one).</summary>
    public static AttemptRecord ForPeer(HopPlan hop, PeerTarget target, DateTimeOffset started, AttemptReport report, AttemptOutcome outcome,
        string? reply)
    {
        var plan = target.Plan;
        // TLS parameters are recorded only for a completed handshake: they are what the channel really had.
        var tls = report.Tls is { Established: true } t ? t : null;
        return new AttemptRecord(hop.NextHop, target.Name, target.Address.ToString(), target.Port, started, DateTimeOffset.UtcNow - started,
            report.Stage.ToWire(), reply, plan.Level.ToWire(), outcome.Transport?.ToWire(), outcome.How.ToWire(), outcome.Reason,
            tls?.Version, tls?.Cipher, tls?.PeerSpki, tls?.PeerSubject, tls?.PeerChain,
            plan.Tlsa.Select(a => a.ToString()).ToList(), plan.TlsaStatus.ToWire(), plan.Mx.ToWire(), plan.AddressStatus.ToWire(),
            Network: (outcome.Network?.Protection ?? NetworkProtection.None).ToWire(), NetworkReason: outcome.Network?.ReasonText,
            ResultType: outcome.ResultType?.ToWire(), TlsRpt: TlsRpt.TlsRptRows.ForPeer(hop, target, report))
        {
            // What peer history remembers of this session (an EHLO is a fact about the peer even when nothing was sent),
            // and the classifier's verdict against that history.
            Observation = report.Connected ? new PeerObservation(report.EhloAccepted ? report.StartTlsOffered : null, tls is not null) : null,
            Downgrade = outcome.Downgrade,
            KeyChanged = outcome.KeyChanged,
        };
    }

    /// <summary>
    /// The next hop as a whole, when no session carried the message (plan failed, every peer failed): no peer, nothing sent.
    /// <paramref name="network"/> is the network layer's decision this verdict rests on (the last peer's, e.g. a
    /// <c>private</c> class without IPsec; <c>ipsec-disabled</c> for a plan failure with IPsec off); null when none was made.
    /// </summary>
    public static AttemptRecord ForHop(HopPlan hop, DateTimeOffset started, ClientStage stage, string reply, AttemptOutcome outcome,
        NetworkFacts? network) =>
        new(hop.NextHop, null, null, null, started, DateTimeOffset.UtcNow - started, stage.ToWire(), reply, hop.Plan.Policy.Level.ToWire(),
            outcome.Transport?.ToWire(), outcome.How.ToWire(), outcome.Reason, MxDnssec: hop.Plan.Mx?.ToWire(),
            Network: (network?.Protection ?? NetworkProtection.None).ToWire(), NetworkReason: network?.ReasonText,
            ResultType: outcome.ResultType?.ToWire(), TlsRpt: TlsRpt.TlsRptRows.ForHop(hop, outcome.ResultType));
}
