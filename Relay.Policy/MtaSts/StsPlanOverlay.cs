using Relay.Policy.Certificates;
using Relay.Policy.Planning;

namespace Relay.Policy.MtaSts;

/// <summary>
/// MTA-STS as a plan input (RFC 8461 §4, §5), a pure function of the DNS plan and the policy in force. It only raises:
/// an explicit destination policy wins and is returned untouched, a configured route is not an MX, and a peer whose
/// TLSA answer decides DANE (secure, bogus or failed) keeps DANE's plan, good or bad (§2: DANE wins where both apply).
/// `enforce`: MX hosts no pattern matches are skipped, the others need TLS with PKIX for their own name, never cleartext.
/// `testing`: the peers are planned as before; the plan only says what enforcement would have done, and carries the facts
/// (<see cref="StsTestingFacts"/>) from which the classifier records the result type enforcement would have had.
/// </summary>
public static class StsPlanOverlay
{
    public static DeliveryPlan Apply(DeliveryPlan plan, StsInput sts)
    {
        if (sts.Policy is not { } policy || policy.Mode == StsMode.None) return plan;
        if (plan.Policy.Explicit is not null || plan.Mx is null or MxDnssec.Route || plan.Failure is not null) return plan;
        var peers = plan.Peers.Select(p => Peer(p, policy, sts.Id ?? "?", sts.FetchFailure)).ToArray();
        var failure = peers.All(p => p.Mode == PeerMode.Skip)
            ? new PlanFailure(PlanFailureKind.NoUsablePeer, "no usable peer: " + string.Join("; ", peers.Select(p => $"{p.Host}: {p.Why}")))
            : null;
        return plan with { Peers = peers, Failure = failure };
    }

    private static PeerPlan Peer(PeerPlan peer, StsPolicy policy, string id, StsFetch.Failed? fetchFailure)
    {
        if (peer.Mode == PeerMode.Skip) return peer;
        if (peer.TlsaStatus is TlsaStatus.Secure or TlsaStatus.Bogus or TlsaStatus.Error) return peer;
        var matches = policy.MatchesMx(peer.Host);
        if (policy.Mode == StsMode.Testing)
            return peer with
            {
                Sts = StsMode.Testing,
                StsTesting = new StsTestingFacts(matches, fetchFailure),
                Why = peer.Why + (matches
                    ? $"; mta-sts testing (id {id}): enforcement would require PKIX for {peer.Host}"
                    : $"; mta-sts testing (id {id}): enforcement would skip {peer.Host}, no mx pattern matches it"),
            };
        if (!matches)
            return peer with { Mode = PeerMode.Skip, Sts = StsMode.Enforce, Sni = null, CleartextFallbackAllowed = false,
                Why = $"mta-sts enforce (id {id}): {peer.Host} matches none of the policy's mx patterns [{string.Join(", ", policy.Mx)}]" };
        return peer with
        {
            Mode = PeerMode.Pkix,
            Sts = StsMode.Enforce,
            Sni = peer.Host,
            ReferenceIdentifiers = [new ReferenceIdentifier(peer.Host)],
            CleartextFallbackAllowed = false,
            Why = $"mta-sts enforce (id {id}): TLS 1.2+ with PKIX for the MX host name required, never cleartext",
        };
    }
}
