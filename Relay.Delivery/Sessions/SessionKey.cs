using Relay.Delivery.Planning;
using Relay.Policy;

namespace Relay.Delivery.Sessions;

/// <summary>
/// What an established session was opened and judged for. A parked session is handed only to a batch whose key is
/// equal: the same next hop, an equal target (Policy's peer plan by value, address and port) and the same REQUIRETLS
/// demand. So a session authenticated under one plan never carries mail under a plan it would not satisfy, and
/// everything the attempt row records from the plan is the same for every transaction the session carries.
/// Peer history (TOFU) is left out of the match: it changes with every new peer's first contact and only ever raises a
/// plan, so keys match on the plan as DNS and policy made it (<see cref="Policy.Planning.PeerPlan.WithoutHistory"/>),
/// and <see cref="Admits"/> checks the session against the requesting key's plan, history included.
/// </summary>
public sealed record SessionKey(string NextHop, PeerTarget Target, bool RequireTls)
{
    public static SessionKey For(string nextHop, PeerTarget target, bool messageRequiresTls) =>
        new(nextHop.ToLowerInvariant(), target, messageRequiresTls);

    public bool Equals(SessionKey? other) => other is not null
        && NextHop == other.NextHop && RequireTls == other.RequireTls && Matched(Target) == Matched(other.Target);

    public override int GetHashCode() => HashCode.Combine(NextHop, RequireTls, Matched(Target));

    private static PeerTarget Matched(PeerTarget target) => target.Plan.WithoutHistory is { } unshaped ? target with { Plan = unshaped } : target;

    /// <summary>
    /// Defence in depth behind key equality: a cleartext session only ever serves a plan that allows cleartext and a
    /// message that does not demand TLS; a REQUIRETLS key takes only a session that passes <see cref="RequireTlsGate"/>.
    /// </summary>
    public bool Admits(EstablishedSession session) =>
        (session.Security.Transport != TransportSecurity.Cleartext || (!Target.Plan.RequiresTls && !RequireTls))
        && session.Security.RequirementMet
        && Policy.Classification.OutcomeClassifier.Channel(Target.Plan, session.Report).RequirementMet
        && (!RequireTls || RequireTlsGate.Refusal(session) is null);
}
