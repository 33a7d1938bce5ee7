using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Db;
using Relay.Delivery.Ipsec;
using Relay.Dns;
using Relay.Policy.Classification;
using Relay.TestKit.Ipsec;

namespace Relay.Delivery.Tests.Ipsec;

/// <summary>
/// The real sidecar client over the relay-side pluto of a <see cref="PlutoPair"/>, asked about the namespace peer
/// (10.211.0.2) whatever address delivery connects to. The one thing not real here: the test process lives outside the
/// namespaces, so its SMTP session goes to a peer on loopback while the IPsec question is asked about the namespace peer.
/// What delivery does with the answer (connect or not, what it records) is the product's own code.
/// </summary>
/// <param name="peerName">The MX name the IPsec question is asked with (the loopback peer's route has none).</param>
internal sealed class NamespacePeer(IpsecSidecar sidecar, string? peerName = null) : INetworkLayer
{
    public Task<NetworkFacts> PrepareAsync(string? name, IPAddress peer, int port, CancellationToken cancellationToken) =>
        sidecar.PrepareAsync(peerName, PlutoPair.PeerAddress, 25, cancellationToken);

    public static IpsecOptions Options(PlutoPair pair) => new()
    {
        Enabled = true,
        ControlSocket = pair.RelayControlSocket,
        PolicyDirectory = pair.RelayPolicyDirectory,
        Timeout = TimeSpan.FromSeconds(3),
    };

    /// <summary>The sidecar over the classes in the database (what the UI and `relay ipsec class` edit).</summary>
    public static IpsecSidecar Sidecar(PlutoPair pair, RelayDatabase database, IpsecOptions? options = null, IDnsResolver? dns = null) =>
        new(options ?? Options(pair), async ct => IpsecClassTable.FromRows(
                (await database.Policies.ListIpsecAsync(ct)).Select(r => (r.Prefix, r.Class))),
            NullLogger.Instance, localAddress: _ => PlutoPair.RelayAddress, dns: dns);
}
