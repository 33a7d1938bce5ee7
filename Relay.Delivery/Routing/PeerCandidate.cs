using System.Net;

namespace Relay.Delivery.Routing;

/// <summary>One address to try, with how we learnt it (the DNSSEC words of delivery_attempts).</summary>
public sealed record PeerCandidate(string Name, IPAddress Address, int Port, string MxDnssec, string AddressDnssec);

/// <summary>Why a next hop has no peer: <see cref="Permanent"/> → bounce with <see cref="Status"/>, otherwise defer.</summary>
public sealed record HopFailure(bool Permanent, string Status, string Reason, string? MxDnssec);
