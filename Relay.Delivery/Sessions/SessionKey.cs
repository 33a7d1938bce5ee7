using Relay.Delivery.Planning;
using Relay.Policy;

namespace Relay.Delivery.Sessions;

/// <summary>
/// What an established session was opened and judged for. A parked session is handed only to a batch whose key is
/// equal: the same next hop, an equal target (Policy's peer plan by value, address and port) and the same REQUIRETLS
/// demand. So a session authenticated under one plan never carries mail under a plan it would not satisfy, and
/// everything the attempt row records from the plan is the same for every transaction the session carries.
/// </summary>
public sealed record SessionKey(string NextHop, PeerTarget Target, bool RequireTls)
{
    public static SessionKey For(string nextHop, PeerTarget target, bool messageRequiresTls) =>
        new(nextHop.ToLowerInvariant(), target, messageRequiresTls);

    /// <summary>
    /// Defence in depth behind key equality: a cleartext session only ever serves a plan that allows cleartext and a
    /// message that does not demand TLS; a REQUIRETLS key takes only a session that passes <see cref="RequireTlsGate"/>.
    /// </summary>
    public bool Admits(EstablishedSession session) =>
        (session.Security.Transport != TransportSecurity.Cleartext || (!Target.Plan.RequiresTls && !RequireTls))
        && session.Security.RequirementMet
        && (!RequireTls || RequireTlsGate.Refusal(session) is null);
}
