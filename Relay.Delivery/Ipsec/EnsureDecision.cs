using System.Net;
using Relay.Policy;
using Relay.Policy.Classification;

namespace Relay.Delivery.Ipsec;

/// <summary>What whack showed for one peer after (or instead of) a trigger: the evidence <see cref="EnsureDecision"/> reads.</summary>
/// <param name="Initiation">The trigger's output; null when an existing SA answered without one.</param>
/// <param name="TimedOut">The trigger was still running at the deadline (pluto retransmitting to a silent peer).</param>
/// <param name="PeerKeys">The keys Relay loaded into pluto for this peer from DNSSEC-secure IPSECKEY answers.</param>
/// <param name="TheirAuth">Per connection, what pluto demands the peer prove (whack --status "their auth:").</param>
/// <param name="KeyNotes">Why IPSECKEY answers gave no key (insecure, bogus, refused by pluto): said beside the outcome.</param>
public sealed record EnsureEvidence(
    InitiationOutput? Initiation,
    bool TimedOut,
    IReadOnlyList<TrafficSa> Traffic,
    IReadOnlyList<BareShunt> Shunts,
    IReadOnlyList<PlutoState> States,
    IReadOnlyList<IpsecPeerKey>? PeerKeys = null,
    IReadOnlyDictionary<string, string>? TheirAuth = null,
    IReadOnlyList<string>? KeyNotes = null);

/// <summary>
/// Evidence → the network layer's fact for one peer. Pure. Only an ESP SA in --trafficstatus counts as IPsec: an IKE SA
/// alone protects no SMTP byte. An SA is <c>ipsec-authenticated</c> only when the peer proved a key Relay loaded from a
/// secure IPSECKEY: the SA's peer id is that key's id AND pluto checked a signature for it (the trigger's output says so,
/// or the SA's connection accepts nothing but signatures). A peer can send any id with NULL authentication (RFC 7619), so
/// an id alone proves nothing; every other SA is <c>ipsec-anonymous</c>.
/// </summary>
public static class EnsureDecision
{
    public static NetworkFacts Decide(IpsecClass cls, IPAddress peer, EnsureEvidence evidence)
    {
        var keys = evidence.PeerKeys ?? [];
        var notes = evidence.KeyNotes is { Count: > 0 } n ? "; " + string.Join("; ", n) : "";
        var init = evidence.Initiation;
        if (evidence.Traffic.FirstOrDefault(t => peer.Equals(t.Peer) && t.Type == "ESP") is { } sa)
        {
            var key = keys.FirstOrDefault(k => k.KeyId == sa.PeerId);
            if (key is not null && ProvedKey(sa, init, evidence.TheirAuth))
                return new NetworkFacts(cls, NetworkProtection.IpsecAuthenticated, null,
                    $"ESP SA #{sa.State}, peer id {sa.PeerId} proved the key of {key}", key);
            var why = sa.Anonymous ? "peer unauthenticated (ID_NULL)"
                : key is not null ? $"peer id {sa.PeerId} has a key from a secure IPSECKEY but did not prove it (NULL authentication)"
                : $"peer id {sa.PeerId} not vouched for by a secure IPSECKEY";
            return new NetworkFacts(cls, NetworkProtection.IpsecAnonymous, null, $"ESP SA #{sa.State}, {why}{notes}");
        }

        // No ESP SA: nothing is protected, but an IKE peer that proved our key is recorded as such (the Child SA failed).
        var proved = init?.SignedWithPreloadedKey is { } signed ? keys.FirstOrDefault(k => k.KeyId == signed) : null;
        var ikeUp = init is { IkeEstablished: true } || evidence.States.Any(s => peer.Equals(s.Peer) && s.IkeEstablished);
        var shunt = evidence.Shunts.FirstOrDefault(s => s.Remote.Contains(peer) && s.Label is "oe-failing" or "oe-failed");
        var ike = proved is not null ? $"IKE SA up, peer authenticated by the key of {proved}" : $"IKE SA up (authby={init?.IkeAuthentication ?? "?"})";
        NetworkFacts None(NetworkReason reason, string detail) => new(cls, NetworkProtection.None, reason, detail + notes, proved);

        if (init is { Unreachable: true }) return None(NetworkReason.SidecarUnreachable, init.LastLine ?? "whack could not reach pluto");
        if (init is { KernelEspMissing: true })
            return None(NetworkReason.NoKernelEsp, $"{ike}; the kernel refused the ESP SA (no ESP transform)");
        if (ikeUp && init is { ChildRejected: true })
            return None(NetworkReason.IkeOnlyChildFailed, $"{ike}; the peer rejected the Child SA (on a kernel without ESP the peer cannot install it)");
        if (init?.AuthenticationFailure is { } failed)
            return None(NetworkReason.OeFailing, $"IKE {failed}" + (keys.Count == 0 ? " (no key from a secure IPSECKEY was loaded for this peer)" : ""));
        if (init is { NoResponse: true }) return None(NetworkReason.PeerNotOeCapable, "no answer to IKE_SA_INIT");
        if (evidence.TimedOut)
            return ikeUp ? None(NetworkReason.Timeout, "IKE SA up, no Child SA before the deadline")
                : None(NetworkReason.Timeout, "no IKE answer before the deadline (pluto still retransmitting)");
        if (init is { NotCovered: true }) return None(NetworkReason.OeFailing, "pluto has no opportunistic policy covering this pair (policy groups not loaded?)");
        if (shunt is not null) return None(NetworkReason.OeFailing, $"pluto holds a {shunt.Label} shunt ({shunt.Action}) for this peer");
        if (ikeUp) return None(NetworkReason.IkeOnlyChildFailed, "IKE SA up, no ESP SA");
        return None(NetworkReason.OeFailing, init?.LastLine is { } last ? "no SA; pluto said: " + last : "no SA and no answer from pluto");
    }

    /// <summary>
    /// Did pluto check the peer's signature against the key for the SA's id? Either this trigger's output names the preloaded
    /// key it verified, or the SA's connection demands a signature and accepts no NULL authentication.
    /// </summary>
    private static bool ProvedKey(TrafficSa sa, InitiationOutput? init, IReadOnlyDictionary<string, string>? theirAuth)
    {
        if (init?.SignedWithPreloadedKey == sa.PeerId) return true;
        if (theirAuth is null || !theirAuth.TryGetValue(sa.Connection, out var auth)) return false;
        var methods = auth.Split('+');
        return !methods.Contains("AUTH_NULL") && methods.Any(m => m.StartsWith("RSASIG", StringComparison.Ordinal) || m.StartsWith("ECDSA", StringComparison.Ordinal));
    }
}
