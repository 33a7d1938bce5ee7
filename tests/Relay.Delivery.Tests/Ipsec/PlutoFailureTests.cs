using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Delivery.Ipsec;
using Relay.Policy;
using Relay.TestKit.Ipsec;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.Delivery.Tests.Ipsec;

/// <summary>A peer whose pluto is gone, and a sidecar that is configured but not there: reasons, within the deadline.</summary>
public class PlutoFailureTests(PlutoPairFixture fixture, ITestOutputHelper output) : IClassFixture<PlutoPairFixture>
{
    [Fact]
    public async Task A_peer_without_pluto_is_not_oe_capable_within_the_deadline()
    {
        await fixture.Pair.StopPeerPlutoAsync();
        await using var h = await Harness.CreateAsync();
        await h.Database.Policies.SetIpsecAsync("10.211.0.2/32", "private-or-clear", CancellationToken.None);
        var clock = Stopwatch.StartNew();
        var facts = await NamespacePeer.Sidecar(fixture.Pair, h.Database).PrepareAsync(null, PlutoPair.PeerAddress, 25, CancellationToken.None);
        output.WriteLine($"ensure: {facts.Protection.ToWire()} {facts.ReasonText} in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(NetworkProtection.None, facts.Protection);
        Assert.Contains(facts.Reason, new NetworkReason?[] { NetworkReason.PeerNotOeCapable, NetworkReason.OeFailing, NetworkReason.Timeout });
        // The deadline (3 s) plus the status reads that follow it.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_configured_sidecar_that_is_not_there_is_a_reason_on_the_attempt()
    {
        await using var h = await Harness.CreateAsync();
        await h.Database.Policies.SetIpsecAsync("10.211.0.0/24", "private-or-clear", CancellationToken.None);
        var options = NamespacePeer.Options(fixture.Pair) with { ControlSocket = "/nonexistent/pluto.ctl", PolicyDirectory = null };
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync("alice@origin.test", ["bob@oe.test"]);
        var role = new DeliveryRole(Harness.Options(("oe.test", peer.Route)), h.Database, NullLogger.Instance,
            network: new NamespacePeer(NamespacePeer.Sidecar(fixture.Pair, h.Database, options)));
        await role.RunOnceAsync(CancellationToken.None);
        var attempt = Assert.Single((await h.ShowAsync(id)).Attempts);
        Assert.Equal("none", attempt.Network);
        Assert.StartsWith("sidecar-unreachable: ", attempt.NetworkReason);
        Assert.Equal("delivered", Assert.Single((await h.ShowAsync(id)).Recipients).State);
    }
}
