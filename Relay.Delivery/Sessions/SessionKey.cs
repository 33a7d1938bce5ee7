using Relay.Delivery.Planning;
using Relay.Delivery.Routing;

namespace Relay.Delivery.Sessions;

/// <summary>
/// What an established session was opened and judged for. A parked session is handed only to a batch whose
/// key is equal: the same next hop, the same peer (name, address, port and the DNSSEC status it was chosen
/// with), the same level, TLS mode, SNI, TLSA and judge, and the same REQUIRETLS demand. So a session
/// authenticated under one plan never carries mail under a plan it would not satisfy, and everything the
/// attempt row records from the plan is the same for every transaction the session carries.
/// </summary>
public sealed record SessionKey(
    string NextHop,
    PeerCandidate Peer,
    string Level,
    TlsMode Tls,
    string? ServerName,
    bool Authenticated,
    string TlsaStatus,
    string Tlsa,
    object Judge,
    bool RequireTls)
{
    public static SessionKey For(string nextHop, PeerPlan plan, bool messageRequiresTls) => new(
        nextHop.ToLowerInvariant(), plan.Peer, plan.Level, SessionOpener.EffectiveMode(plan, messageRequiresTls), plan.ServerName,
        plan.Authenticated, plan.TlsaStatus, string.Join('\n', plan.Tlsa ?? []), (object?)plan.JudgeIdentity ?? plan.Judge, messageRequiresTls);

    /// <summary>
    /// Defence in depth behind key equality: a cleartext session only ever serves an opportunistic (or `none`)
    /// plan and a message that does not demand TLS; a REQUIRETLS key takes only a session that passes
    /// <see cref="RequireTlsGate"/> (verified and REQUIRETLS announced after STARTTLS).
    /// </summary>
    public bool Admits(EstablishedSession session) =>
        (session.Transport.Transport != "cleartext" || ((Tls is TlsMode.Opportunistic or TlsMode.Never) && !RequireTls))
        && (!RequireTls || RequireTlsGate.Refusal(session) is null);
}
