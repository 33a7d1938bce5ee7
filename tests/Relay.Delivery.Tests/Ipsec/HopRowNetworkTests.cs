using Relay.Dns;

namespace Relay.Delivery.Tests.Ipsec;

/// <summary>
/// The next hop's own row (no peer, nothing sent) carries the network decision its verdict rests on, not a bare "none":
/// a plan failure with IPsec off says <c>ipsec-disabled</c>; every peer failing says what the last peer's network layer had.
/// (The class-private and block cases, with real pluto, are in <see cref="PlutoDeliveryTests"/>.)
/// </summary>
public class HopRowNetworkTests
{
    [Fact]
    public async Task A_plan_failure_with_ipsec_off_records_ipsec_disabled()
    {
        await using var h = await Harness.CreateAsync();
        var dns = new FakeDns().Answer("broken.test", DnsType.MX,
            (n, t) => new DnsResult.Error(n, t, DnsErrorKind.ServerFailure, "SERVFAIL", DnsRcode.ServFail));
        var id = await h.EnqueueAsync("alice@origin.test", ["a@broken.test"]);
        await h.Role(Harness.Options(), dns).RunOnceAsync(CancellationToken.None);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Null(attempt.Peer);
        Assert.Equal(("dns", "none", "ipsec-disabled"), (attempt.Stage, attempt.Network, attempt.NetworkReason));
    }

    [Fact]
    public async Task Every_peer_failing_records_the_last_peers_network_decision_on_the_hop_row()
    {
        await using var h = await Harness.CreateAsync();
        // A route to a loopback port nobody listens on: the connection is refused, the hop row follows.
        var id = await h.EnqueueAsync("alice@origin.test", ["a@refused.test"]);
        await h.Role(Harness.Options(("refused.test", "[127.0.0.1]:1"))).RunOnceAsync(CancellationToken.None);
        var attempts = (await h.ShowAsync(id)).Attempts;
        var hop = Assert.Single(attempts, a => a.Peer is null);
        var peer = Assert.Single(attempts, a => a.Peer is not null);
        Assert.Equal(("none", "ipsec-disabled"), (peer.Network, peer.NetworkReason));
        Assert.Equal((peer.Network, peer.NetworkReason), (hop.Network, hop.NetworkReason));
    }
}
