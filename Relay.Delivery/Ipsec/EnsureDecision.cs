using System.Net;
using Relay.Policy;
using Relay.Policy.Classification;

namespace Relay.Delivery.Ipsec;

/// <summary>What whack showed for one peer after (or instead of) a trigger: the evidence <see cref="EnsureDecision"/> reads.</summary>
/// <param name="Initiation">The trigger's output; null when an existing SA answered without one.</param>
/// <param name="TimedOut">The trigger was still running at the deadline (pluto retransmitting to a silent peer).</param>
/// <param name="AuthenticatedPeerId">The IKE id whose key Relay loaded from a DNSSEC-secure IPSECKEY, if any.</param>
public sealed record EnsureEvidence(
    InitiationOutput? Initiation,
    bool TimedOut,
    IReadOnlyList<TrafficSa> Traffic,
    IReadOnlyList<BareShunt> Shunts,
    IReadOnlyList<PlutoState> States,
    string? AuthenticatedPeerId = null);

/// <summary>
/// Evidence → the network layer's fact for one peer. Pure. Only an ESP SA in --trafficstatus counts as IPsec: an IKE SA
/// alone protects no SMTP byte. An SA is <c>ipsec-authenticated</c> only when its peer id is the one whose key Relay loaded
/// from a secure IPSECKEY; every other SA (ID_NULL, or an id nobody here vouched for) is <c>ipsec-anonymous</c>.
/// </summary>
public static class EnsureDecision
{
    public static NetworkFacts Decide(IpsecClass cls, IPAddress peer, EnsureEvidence evidence)
    {
        if (evidence.Traffic.FirstOrDefault(t => peer.Equals(t.Peer) && t.Type == "ESP") is { } sa)
            return evidence.AuthenticatedPeerId is { } id && sa.PeerId == id
                ? new NetworkFacts(cls, NetworkProtection.IpsecAuthenticated, null, $"ESP SA #{sa.State}, peer id {sa.PeerId} from a secure IPSECKEY")
                : new NetworkFacts(cls, NetworkProtection.IpsecAnonymous, null,
                    sa.Anonymous ? $"ESP SA #{sa.State}, peer unauthenticated (ID_NULL)" : $"ESP SA #{sa.State}, peer id {sa.PeerId} not vouched for by a secure IPSECKEY");

        var init = evidence.Initiation;
        var ikeUp = init is { IkeEstablished: true } || evidence.States.Any(s => peer.Equals(s.Peer) && s.IkeEstablished);
        var shunt = evidence.Shunts.FirstOrDefault(s => s.Remote.Contains(peer) && s.Label is "oe-failing" or "oe-failed");
        NetworkFacts None(NetworkReason reason, string detail) => new(cls, NetworkProtection.None, reason, detail);

        if (init is { Unreachable: true }) return None(NetworkReason.SidecarUnreachable, init.LastLine ?? "whack could not reach pluto");
        if (init is { KernelEspMissing: true })
            return None(NetworkReason.NoKernelEsp, "IKE SA up; the kernel refused the ESP SA (no ESP transform)");
        if (ikeUp && init is { ChildRejected: true })
            return None(NetworkReason.IkeOnlyChildFailed,
                $"IKE SA up (authby={init.IkeAuthentication ?? "?"}); the peer rejected the Child SA (on a kernel without ESP the peer cannot install it)");
        if (init is { NoResponse: true }) return None(NetworkReason.PeerNotOeCapable, "no answer to IKE_SA_INIT");
        if (evidence.TimedOut)
            return ikeUp ? None(NetworkReason.Timeout, "IKE SA up, no Child SA before the deadline")
                : None(NetworkReason.Timeout, "no IKE answer before the deadline (pluto still retransmitting)");
        if (init is { NotCovered: true }) return None(NetworkReason.OeFailing, "pluto has no opportunistic policy covering this pair (policy groups not loaded?)");
        if (shunt is not null) return None(NetworkReason.OeFailing, $"pluto holds a {shunt.Label} shunt ({shunt.Action}) for this peer");
        if (ikeUp) return None(NetworkReason.IkeOnlyChildFailed, "IKE SA up, no ESP SA");
        return None(NetworkReason.OeFailing, init?.LastLine is { } last ? "no SA; pluto said: " + last : "no SA and no answer from pluto");
    }
}
