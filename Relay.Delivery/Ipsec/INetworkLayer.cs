using System.Net;
using Relay.Policy.Classification;

namespace Relay.Delivery.Ipsec;

/// <summary>
/// The network layer under one SMTP connection, asked before connecting (DESIGN.md § Message flow, step 4): the class
/// of the peer's prefix and, for the classes that trigger IKE, what pluto reached by the deadline. Facts only: whether
/// delivery may connect is Relay.Policy's <see cref="OutcomeClassifier.NetworkAllows"/>.
/// </summary>
public interface INetworkLayer
{
    /// <param name="peerName">The peer's host name (the MX name; its IPSECKEY may authenticate the peer), or null.</param>
    Task<NetworkFacts> PrepareAsync(string? peerName, IPAddress peer, int port, CancellationToken cancellationToken);
}

/// <summary>Relay:Ipsec:Enabled is false: nothing waits, every attempt records <c>none</c> with <c>ipsec-disabled</c>.</summary>
public sealed class DisabledNetworkLayer : INetworkLayer
{
    public static DisabledNetworkLayer Instance { get; } = new();

    public Task<NetworkFacts> PrepareAsync(string? peerName, IPAddress peer, int port, CancellationToken cancellationToken) =>
        Task.FromResult(NetworkFacts.Disabled);
}
