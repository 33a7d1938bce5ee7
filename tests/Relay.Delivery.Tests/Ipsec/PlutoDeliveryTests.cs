using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Delivery.Ipsec;
using Relay.Policy;
using Relay.TestKit;
using Relay.TestKit.Ipsec;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.Delivery.Tests.Ipsec;

/// <summary>
/// RFC 4322 OE with real plutos in two namespaces (relay side classes from the database, peer clear-or-private,
/// authby=null). The expected network outcome follows a probe of the kernel: with ESP the SA comes up
/// (ipsec-anonymous); without it (this machine) IKE comes up and the Child SA fails. Each test prints which branch ran.
/// </summary>
public class PlutoDeliveryTests(PlutoPairFixture fixture, ITestOutputHelper output) : IClassFixture<PlutoPairFixture>
{
    private PlutoPair Pair => fixture.Pair;

    private void Branch() => output.WriteLine(Pair.KernelHasEsp
        ? "kernel probe: ESP available -> expecting ipsec-anonymous"
        : "kernel probe: no ESP transform -> expecting none with ike-only-child-failed or no-kernel-esp");

    private async Task<(Harness H, ScriptedSmtpPeer Peer, string Id)> DeliverAsync(string cls)
    {
        var h = await Harness.CreateAsync();
        await h.Database.Policies.SetIpsecAsync("10.211.0.0/24", cls, CancellationToken.None);
        var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync("alice@origin.test", ["bob@oe.test"]);
        var options = Harness.Options(("oe.test", peer.Route));
        var role = new DeliveryRole(options, h.Database, NullLogger.Instance, network: new NamespacePeer(NamespacePeer.Sidecar(Pair, h.Database)));
        await role.RunOnceAsync(CancellationToken.None);
        return (h, peer, id);
    }

    [Fact]
    public async Task Ensure_brings_the_ike_sa_up_anonymously_and_answers_what_the_kernel_allows()
    {
        Branch();
        await using var h = await Harness.CreateAsync();
        await h.Database.Policies.SetIpsecAsync("10.211.0.0/24", "private-or-clear", CancellationToken.None);
        var sidecar = NamespacePeer.Sidecar(Pair, h.Database);
        var clock = Stopwatch.StartNew();
        var facts = await sidecar.PrepareAsync(null, PlutoPair.PeerAddress, 25, CancellationToken.None);
        output.WriteLine($"ensure: {facts.Protection.ToWire()} {facts.ReasonText} in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(IpsecClass.PrivateOrClear, facts.Class);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3) + TimeSpan.FromSeconds(6), "Ensure outlived its deadline");
        // Relay wrote the policy group pluto triggered from.
        Assert.Contains("10.211.0.0/24", await File.ReadAllTextAsync(Path.Combine(Pair.RelayPolicyDirectory, "private-or-clear")));
        Assert.Contains("initiator established IKE SA; authenticated peer using authby=null", Pair.RelayLog);
        if (Pair.KernelHasEsp)
            Assert.Equal(NetworkProtection.IpsecAnonymous, facts.Protection);
        else
        {
            Assert.Equal(NetworkProtection.None, facts.Protection);
            Assert.Contains(facts.Reason, new NetworkReason?[] { NetworkReason.IkeOnlyChildFailed, NetworkReason.NoKernelEsp });
            Assert.Contains("STATE_V2_ESTABLISHED_IKE_SA", await Pair.WhackAsync(true, "--status"));
            Assert.Equal("", (await Pair.WhackAsync(true, "--trafficstatus")).Trim());
        }
        // The decision is cached: asking again is answered without pluto (and says the same).
        Assert.Equal(facts, await sidecar.PrepareAsync(null, PlutoPair.PeerAddress, 25, CancellationToken.None));
    }

    [Fact]
    public async Task Private_or_clear_delivers_either_way_and_records_what_the_network_layer_had()
    {
        Branch();
        var (h, peer, id) = await DeliverAsync("private-or-clear");
        await using var _ = h;
        await using var __ = peer;
        var detail = await h.ShowAsync(id);
        Assert.Equal("delivered", Assert.Single(detail.Recipients).State);
        var attempt = Assert.Single(detail.Attempts);
        output.WriteLine($"attempt: network {attempt.Network} ({attempt.NetworkReason})");
        if (Pair.KernelHasEsp)
            Assert.Equal("ipsec-anonymous", attempt.Network);
        else
        {
            Assert.Equal("none", attempt.Network);
            Assert.Matches("^(ike-only-child-failed|no-kernel-esp): ", attempt.NetworkReason);
        }
    }

    [Fact]
    public async Task Private_without_an_esp_sa_opens_no_smtp_connection_and_defers_with_the_reason()
    {
        Branch();
        var (h, peer, id) = await DeliverAsync("private");
        await using var _ = h;
        await using var __ = peer;
        var detail = await h.ShowAsync(id);
        var recipient = Assert.Single(detail.Recipients);
        var attempt = detail.Attempts.First(a => a.Peer is not null);
        output.WriteLine($"attempt: network {attempt.Network} ({attempt.NetworkReason}); recipient {recipient.State}: {recipient.LastResult}");
        if (Pair.KernelHasEsp)
        {
            Assert.Equal("delivered", recipient.State);
            Assert.Equal("ipsec-anonymous", attempt.Network);
            return;
        }
        Assert.Equal(0, peer.Connections);
        Assert.Equal("deferred", recipient.State);
        Assert.Contains("ipsec class private requires IPsec", recipient.LastResult);
        Assert.Null(attempt.Transport);
        Assert.Equal("none", attempt.Network);
        Assert.Matches("^(ike-only-child-failed|no-kernel-esp|oe-failing): ", attempt.NetworkReason);
        // The hop's own row (the deferral) carries the same network decision, not a bare "none".
        var hop = Assert.Single(detail.Attempts, a => a.Peer is null);
        Assert.Equal((attempt.Network, attempt.NetworkReason), (hop.Network, hop.NetworkReason));
    }

    [Fact]
    public async Task Block_opens_no_connection_and_defers_as_blocked()
    {
        var (h, peer, id) = await DeliverAsync("block");
        await using var _ = h;
        await using var __ = peer;
        var detail = await h.ShowAsync(id);
        Assert.Equal(0, peer.Connections);
        Assert.Equal("deferred", Assert.Single(detail.Recipients).State);
        var attempt = detail.Attempts.First(a => a.Peer is not null);
        Assert.Equal(("blocked", "class-block"), (attempt.Network, attempt.NetworkReason));
        Assert.Null(attempt.Transport);
        var hop = Assert.Single(detail.Attempts, a => a.Peer is null);
        Assert.Equal(("blocked", "class-block"), (hop.Network, hop.NetworkReason));
    }

    [Fact]
    public async Task Clear_triggers_nothing_and_records_the_class()
    {
        var (h, peer, id) = await DeliverAsync("clear");
        await using var _ = h;
        await using var __ = peer;
        var detail = await h.ShowAsync(id);
        Assert.Equal("delivered", Assert.Single(detail.Recipients).State);
        Assert.Equal(("none", "class-clear"), (Assert.Single(detail.Attempts).Network, Assert.Single(detail.Attempts).NetworkReason));
    }

    [Fact]
    public async Task A_class_edited_in_the_database_changes_the_next_decision_and_the_policy_groups()
    {
        await using var h = await Harness.CreateAsync();
        await h.Database.Policies.SetIpsecAsync("10.211.0.2/32", "clear", CancellationToken.None);
        // The table is reread on every call here (delivery rereads it every 10 s by default).
        var sidecar = NamespacePeer.Sidecar(Pair, h.Database, NamespacePeer.Options(Pair) with { ClassRefresh = TimeSpan.Zero });
        Assert.Equal(NetworkReason.ClassClear, (await sidecar.PrepareAsync(null, PlutoPair.PeerAddress, 25, CancellationToken.None)).Reason);
        Assert.Contains("10.211.0.2/32", await File.ReadAllTextAsync(Path.Combine(Pair.RelayPolicyDirectory, "clear")));

        await h.Database.Policies.SetIpsecAsync("10.211.0.2/32", "block", CancellationToken.None); // what the UI's form does
        var blocked = await sidecar.PrepareAsync(null, PlutoPair.PeerAddress, 25, CancellationToken.None);
        Assert.Equal((IpsecClass.Block, NetworkProtection.Blocked), (blocked.Class, blocked.Protection));
        Assert.Contains("10.211.0.2/32", await File.ReadAllTextAsync(Path.Combine(Pair.RelayPolicyDirectory, "block")));
        Assert.DoesNotContain("10.211.0.2/32", await File.ReadAllTextAsync(Path.Combine(Pair.RelayPolicyDirectory, "clear")));
        // pluto was told: its block conn now covers the peer (a kernel policy that blocks it).
        Assert.Matches(@"dst 10\.211\.0\.2/32\s*\n\s*dir out action block",
            await Processes.RunAsync("ip", ["-n", Pair.RelayNamespace, "xfrm", "policy"], TimeSpan.FromSeconds(10)));
    }
}
