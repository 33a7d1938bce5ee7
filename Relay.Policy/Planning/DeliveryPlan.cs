namespace Relay.Policy.Planning;

/// <summary>Why no peer can be tried; <see cref="Permanent"/> only for answers that cannot change (NXDOMAIN, null MX).</summary>
public sealed record PlanFailure(bool Permanent, string Reason);

/// <summary>
/// The plan for one next hop: peers in MX preference order (RFC 7672 §2.2.1: security never reorders
/// them). Peers with <see cref="PeerMode.Skip"/> stay in the list so `relay check` can show why.
/// </summary>
public sealed record DeliveryPlan(
    NextHop NextHop,
    ResolvedPolicy Policy,
    MxDnssec Mx,
    IReadOnlyList<PeerPlan> Peers,
    PlanFailure? Failure)
{
    public IEnumerable<PeerPlan> UsablePeers => Peers.Where(p => p.Mode != PeerMode.Skip);
}

/// <summary>Either the finished plan, or the DNS questions the planner still needs answered.</summary>
public sealed record PlanStep(DeliveryPlan? Plan, IReadOnlyList<DnsLookup> Missing)
{
    public bool IsComplete => Plan is not null;
}
