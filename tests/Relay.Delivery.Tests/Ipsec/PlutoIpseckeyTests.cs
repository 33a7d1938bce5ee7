using Microsoft.Extensions.Logging.Abstractions;
using Relay.Dns;
using Relay.Policy;
using Relay.TestKit;
using Relay.TestKit.Dns;
using Relay.TestKit.Ipsec;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.Delivery.Tests.Ipsec;

/// <summary>
/// DNSSEC-authenticated OE (RFC 4322) with real plutos and a real signed DNS world: the peer signs IKE_AUTH with its RSA
/// host key, the relay's conns demand a signature (rightauth=rsasig), and the peer's key is published as IPSECKEY at the
/// reverse name of its address and at its MX name. Relay looks both up through Relay.Dns, loads only secure answers into
/// pluto, and records the key's owner and TTL. The outcome follows a probe of the kernel: with ESP the SA comes up as
/// ipsec-authenticated; without it (this machine) the authenticated IKE SA is real and the Child SA fails, so the attempt
/// records none with the reason and the IPSECKEY it authenticated. Each test prints which branch ran.
/// </summary>
public class PlutoIpseckeyTests(ITestOutputHelper output)
{
    private const string MxName = "mx.oe.test.";
    private const string ReverseName = "2.0.211.10.in-addr.arpa.";
    private const string PeerId = "10.211.0.2";

    /// <summary>Secure IPSECKEY at both names (the forward one with the peer as its gateway, the reverse one without).</summary>
    private static Task<DnsWorld> SecureWorldAsync(string key)
    {
        var b = new DnsWorldBuilder();
        b.Zone("oe.test.", signed: true).Add($"mx A {PeerId}", $"mx IPSECKEY 10 1 2 {PeerId} {key}");
        b.Zone("0.211.10.in-addr.arpa.", signed: true).Add($"2 IPSECKEY 10 0 2 . {key}");
        return b.StartAsync();
    }

    /// <summary>The right key again, but the reverse zone is unsigned (insecure) and the forward IPSECKEY's RRSIG is broken (bogus).</summary>
    private static Task<DnsWorld> UntrustedWorldAsync(string key)
    {
        var b = new DnsWorldBuilder();
        b.Zone("oe.test.", signed: true).Add($"mx A {PeerId}", $"mx IPSECKEY 10 1 2 {PeerId} {key}").CorruptSignature("mx", "IPSECKEY");
        b.Zone("0.211.10.in-addr.arpa.", signed: false).Add($"2 IPSECKEY 10 0 2 . {key}");
        return b.StartAsync();
    }

    private static DnsResolver Trusting(DnsWorld world) => new([new DnsServer(world.Resolver, Trusted: true)]);

    private void Branch(PlutoPair pair) => output.WriteLine(pair.KernelHasEsp
        ? "kernel probe: ESP available -> expecting ipsec-authenticated"
        : "kernel probe: no ESP transform -> expecting none (ike-only-child-failed or no-kernel-esp) with the IPSECKEY recorded");

    [Fact]
    public async Task A_secure_ipseckey_is_loaded_authenticates_the_ike_peer_and_is_recorded_on_the_attempt()
    {
        await using var pair = await PlutoPair.StartAsync(peerSignsWithKey: true);
        Branch(pair);
        await using var world = await SecureWorldAsync(pair.PeerPublicKey!);
        await using var h = await Harness.CreateAsync();
        await h.Database.Policies.SetIpsecAsync("10.211.0.0/24", "private-or-clear", CancellationToken.None);
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync("alice@origin.test", ["bob@oe.test"]);
        var sidecar = NamespacePeer.Sidecar(pair, h.Database, dns: Trusting(world));
        var role = new DeliveryRole(Harness.Options(("oe.test", peer.Route)), h.Database, NullLogger.Instance,
            network: new NamespacePeer(sidecar, MxName));
        await role.RunOnceAsync(CancellationToken.None);

        // Both secure keys are in pluto, under the ids RFC 4322 (address) and the MX name (@name) give them.
        var keys = await pair.WhackAsync(true, "--listpubkeys");
        Assert.Contains($"ID_IPV4_ADDR '{PeerId}'", keys);
        Assert.Contains("ID_FQDN '@mx.oe.test'", keys);
        // The IKE SA came up because the peer proved that key (the relay's conns accept nothing else).
        Assert.Matches($"established IKE SA; authenticated peer '[^']*' digital signature using preloaded certificate '{PeerId}'", pair.RelayLog);

        var detail = await h.ShowAsync(id);
        Assert.Equal("delivered", Assert.Single(detail.Recipients).State);
        var attempt = Assert.Single(detail.Attempts);
        output.WriteLine($"attempt: network {attempt.Network} ({attempt.NetworkReason})");
        Assert.Contains($"IPSECKEY {ReverseName} (TTL {DnsWorldBuilder.DefaultTtl})", attempt.NetworkReason);
        if (pair.KernelHasEsp)
            Assert.Equal("ipsec-authenticated", attempt.Network);
        else
        {
            Assert.Equal("none", attempt.Network);
            Assert.Matches("^(ike-only-child-failed|no-kernel-esp): IKE SA up, peer authenticated by the key of IPSECKEY", attempt.NetworkReason);
        }
        var facts = await sidecar.PrepareAsync(MxName, PlutoPair.PeerAddress, 25, CancellationToken.None); // the cached decision
        Assert.Equal((ReverseName, DnsWorldBuilder.DefaultTtl, PeerId), (facts.PeerKey!.Owner, facts.PeerKey.Ttl, facts.PeerKey.KeyId));

        // `relay ipsec status ADDRESS --name MX --json` shows both secure keys as held by pluto, and names the one the
        // network outcome rests on only when an ESP SA carries it.
        var (exit, json) = await IpsecCommandTests.RunAsync(h, NamespacePeer.Options(pair), Trusting(world),
            "ipsec", "status", PeerId, "--name", "mx.oe.test", "--json");
        output.WriteLine("status: " + json);
        Assert.Equal(0, exit);
        var status = System.Text.Json.JsonDocument.Parse(json).RootElement;
        var listed = status.GetProperty("ipseckeys").EnumerateArray()
            .Select(k => (k.GetProperty("owner").GetString(), k.GetProperty("keyId").GetString(), k.GetProperty("loaded").GetBoolean())).ToArray();
        Assert.Contains((ReverseName, PeerId, true), listed);
        Assert.Contains((MxName, "@mx.oe.test", true), listed);
        var by = status.GetProperty("authenticatedBy");
        if (pair.KernelHasEsp)
            Assert.Equal((ReverseName, 300), (by.GetProperty("owner").GetString(), by.GetProperty("ttl").GetInt32()));
        else
            Assert.Equal(System.Text.Json.JsonValueKind.Null, by.ValueKind);
    }

    [Fact]
    public async Task An_insecure_or_bogus_ipseckey_is_never_loaded_and_never_authenticates()
    {
        await using var pair = await PlutoPair.StartAsync(peerSignsWithKey: true);
        Branch(pair);
        await using var world = await UntrustedWorldAsync(pair.PeerPublicKey!);
        // The records are the peer's real key: had Relay loaded either, IKE would have authenticated the peer.
        Assert.IsType<DnsResult.Insecure>(await Trusting(world).QueryAsync(ReverseName, DnsType.IPSECKEY));
        Assert.IsType<DnsResult.Bogus>(await Trusting(world).QueryAsync(MxName, DnsType.IPSECKEY));
        await using var h = await Harness.CreateAsync();
        await h.Database.Policies.SetIpsecAsync("10.211.0.0/24", "private-or-clear", CancellationToken.None);
        var sidecar = NamespacePeer.Sidecar(pair, h.Database, dns: Trusting(world));

        var facts = await sidecar.PrepareAsync(MxName, PlutoPair.PeerAddress, 25, CancellationToken.None);
        output.WriteLine($"ensure: {facts.Protection.ToWire()} {facts.ReasonText}");
        Assert.Equal(NetworkProtection.None, facts.Protection);
        Assert.Null(facts.PeerKey);
        Assert.Equal(NetworkReason.OeFailing, facts.Reason);
        Assert.Contains("authentication failed", facts.Detail);
        Assert.Contains($"IPSECKEY {ReverseName} insecure", facts.Detail);
        Assert.Contains($"IPSECKEY {MxName} bogus", facts.Detail);
        var keys = await pair.WhackAsync(true, "--listpubkeys");
        Assert.DoesNotContain(PeerId, keys);
        Assert.DoesNotContain("mx.oe.test", keys);
    }

    [Fact]
    public async Task A_key_whose_ipseckey_is_no_longer_secure_is_retired_in_pluto()
    {
        await using var pair = await PlutoPair.StartAsync(peerSignsWithKey: true);
        await using var secure = await SecureWorldAsync(pair.PeerPublicKey!);
        await using var untrusted = await UntrustedWorldAsync(pair.PeerPublicKey!);
        await using var h = await Harness.CreateAsync();
        await h.Database.Policies.SetIpsecAsync("10.211.0.0/24", "private-or-clear", CancellationToken.None);
        // The peer's zones lose their signatures between two deliveries; the second sidecar is a new one (as after a restart
        // of Relay, which remembers nothing of what it loaded): what pluto lists is what gets retired.
        var uncached = NamespacePeer.Options(pair) with { FailureLifetime = TimeSpan.Zero, SuccessLifetime = TimeSpan.Zero };
        var first = await NamespacePeer.Sidecar(pair, h.Database, uncached, Trusting(secure)).PrepareAsync(MxName, PlutoPair.PeerAddress, 25, CancellationToken.None);
        Assert.NotNull(first.PeerKey);
        Assert.Contains($"ID_IPV4_ADDR '{PeerId}'", await pair.WhackAsync(true, "--listpubkeys"));

        var sidecar = NamespacePeer.Sidecar(pair, h.Database, uncached, Trusting(untrusted));
        var second = await sidecar.PrepareAsync(MxName, PlutoPair.PeerAddress, 25, CancellationToken.None);
        output.WriteLine($"second ensure: {second.Protection.ToWire()} {second.ReasonText}");
        Assert.Null(second.PeerKey);
        Assert.NotEqual(NetworkProtection.IpsecAuthenticated, second.Protection);
        Assert.Contains($"key pluto held for {PeerId} retired", second.Detail);
        Assert.Contains("key pluto held for @mx.oe.test retired", second.Detail);
        // libreswan 4.10 cannot delete a whack-loaded key: the peer's key is replaced by one nobody holds, so a new IKE SA
        // with this peer fails authentication (the old IKE SA, made while the key was secure, stays until it is deleted).
        var keys = await pair.WhackAsync(true, "--listpubkeys");
        Assert.DoesNotContain(pair.PeerPublicKey![..9], keys);
        Assert.Contains($"ID_IPV4_ADDR '{PeerId}'", keys);
        await pair.WhackAsync(true, "--deletestate", "1");
        var third = await sidecar.PrepareAsync(MxName, PlutoPair.PeerAddress, 25, CancellationToken.None);
        output.WriteLine($"third ensure: {third.Protection.ToWire()} {third.ReasonText}");
        Assert.Equal((NetworkProtection.None, NetworkReason.OeFailing, (Relay.Policy.Classification.IpsecPeerKey?)null),
            (third.Protection, third.Reason, third.PeerKey));
        Assert.Contains("authentication failed", third.Detail);
        Assert.DoesNotContain("retired", third.Detail); // its own tombstones are left alone
    }
}
