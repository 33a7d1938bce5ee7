using System.Net;
using Relay.Policy.Planning;

namespace Relay.Delivery.Planning;

/// <summary>One address of one planned peer: Relay.Policy's plan for the peer plus the network target delivery connects to.
/// Equal by value, so a session opened for one target may carry mail for an equal one planned later.</summary>
public sealed record PeerTarget(PeerPlan Plan, IPAddress Address, int Port)
{
    public string Name => Plan.Host;

    public IPEndPoint EndPoint => new(Address, Port);
}

/// <summary>Policy's plan for a next hop, and the addresses delivery will try, in order.</summary>
public sealed record HopPlan(string NextHop, DeliveryPlan Plan, IReadOnlyList<PeerTarget> Targets);
