using System.Net;
using Relay.Delivery.Planning;
using Relay.Delivery.Sessions;
using Relay.Policy;
using Relay.Policy.Certificates;
using Relay.Policy.Classification;
using Relay.Policy.Dane;
using Relay.Policy.Planning;
using Relay.Smtp.Client;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>Which parked session may serve which plan: equal keys only (plans by value), and never cleartext where TLS is required.</summary>
public class SessionKeyTests
{
    private static PeerPlan Plan(PolicyLevel level = PolicyLevel.Dane, PeerMode mode = PeerMode.Opportunistic, byte tlsaFirstByte = 1,
        params IPAddress[] addresses) =>
        new("mx.example.test", 10, addresses.Length == 0 ? [IPAddress.Loopback, IPAddress.IPv6Loopback] : addresses, level, mode, MxDnssec.Secure,
            AddressDnssec.Secure, TlsaStatus.Secure, "mx.example.test", [new TlsaAssociation(3, 1, 1, [tlsaFirstByte, 2, 3])], [],
            "mx.example.test", [new ReferenceIdentifier("mx.example.test")], [], mode == PeerMode.Opportunistic, "test");

    private static PeerTarget Target(PeerPlan plan) => new(plan, IPAddress.Loopback, 25);

    [Fact]
    public void Plans_made_alike_by_separate_planning_runs_share_a_key_whatever_order_the_addresses_came_in()
    {
        Assert.Equal(SessionKey.For("Example.test", Target(Plan()), false), SessionKey.For("example.test", Target(Plan()), false));
        Assert.Equal(SessionKey.For("example.test", Target(Plan(addresses: [IPAddress.Loopback, IPAddress.IPv6Loopback])), false),
            SessionKey.For("example.test", Target(Plan(addresses: [IPAddress.IPv6Loopback, IPAddress.Loopback])), false));
    }

    [Fact]
    public void A_different_tlsa_set_level_next_hop_address_or_REQUIRETLS_demand_gives_a_different_key()
    {
        var key = SessionKey.For("example.test", Target(Plan()), false);
        Assert.NotEqual(key, SessionKey.For("example.test", Target(Plan(tlsaFirstByte: 9)), false));
        Assert.NotEqual(key, SessionKey.For("example.test", Target(Plan(PolicyLevel.Encrypt, PeerMode.Encrypt)), false));
        Assert.NotEqual(key, SessionKey.For("other.test", Target(Plan()), false));
        Assert.NotEqual(key, SessionKey.For("example.test", Target(Plan()) with { Address = IPAddress.Parse("127.0.0.2") }, false));
        Assert.NotEqual(key, SessionKey.For("example.test", Target(Plan()), true));
    }

    [Fact]
    public async Task A_cleartext_session_is_admitted_only_by_an_opportunistic_key_and_a_REQUIRETLS_key_admits_no_unverified_session()
    {
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        await using var client = await SmtpClientSession.ConnectAsync(peer.EndPoint, new SmtpClientTimeouts(), CancellationToken.None);
        EstablishedSession Session(PeerPlan plan, AttemptReport report) => new(client, Target(plan), report, OutcomeClassifier.Channel(plan, report));
        var noStartTls = new AttemptReport(ClientStage.Ehlo, Connected: true, EhloAccepted: true);
        var tls = noStartTls with { StartTlsOffered = true, Tls = new TlsFacts(true, null, Version: "TLSv1.3") };
        var cleartext = Session(Plan(), noStartTls);
        var encrypted = Session(Plan(PolicyLevel.Encrypt, PeerMode.Encrypt), tls);
        Assert.Equal(TransportSecurity.Cleartext, cleartext.Security.Transport);
        Assert.Equal(TransportSecurity.Encrypted, encrypted.Security.Transport);

        Assert.True(SessionKey.For("example.test", Target(Plan()), false).Admits(cleartext));
        Assert.False(SessionKey.For("example.test", Target(Plan()), true).Admits(cleartext));
        Assert.False(SessionKey.For("example.test", Target(Plan(PolicyLevel.Encrypt, PeerMode.Encrypt)), false).Admits(cleartext));
        Assert.True(SessionKey.For("example.test", Target(Plan(PolicyLevel.Encrypt, PeerMode.Encrypt)), false).Admits(encrypted));
        // RFC 8689 §4.2.1: TLS alone is not enough for REQUIRETLS; the session must be verified and the peer must announce it.
        Assert.False(SessionKey.For("example.test", Target(Plan(PolicyLevel.Encrypt, PeerMode.Encrypt)), true).Admits(encrypted));
        // A session whose channel does not meet its own plan (DANE required, nothing authenticated) serves no key at all.
        var unmet = Session(Plan(PolicyLevel.DaneOnly, PeerMode.Dane), tls);
        Assert.False(unmet.Security.RequirementMet);
        Assert.False(SessionKey.For("example.test", Target(Plan(PolicyLevel.DaneOnly, PeerMode.Dane)), false).Admits(unmet));
    }

    [Fact]
    public async Task Peer_history_does_not_split_keys_but_a_protected_plan_admits_no_cleartext_session()
    {
        var now = DateTimeOffset.UtcNow;
        var history = new Relay.Policy.History.PeerHistoryFacts(now.AddDays(-1), now.AddDays(-1), ["aa"]);
        var plain = Plan(tlsaFirstByte: 7) with { TlsaStatus = TlsaStatus.Insecure, Tlsa = [] };
        var protectedPlan = Relay.Policy.History.PeerHistoryOverlay.Apply(plain, history, Relay.Policy.History.HistorySettings.Default, false, now);
        Assert.Equal(PeerMode.Encrypt, protectedPlan.Mode);
        var key = SessionKey.For("example.test", Target(plain), false);
        var raised = SessionKey.For("example.test", Target(protectedPlan), false);
        Assert.Equal(key, raised);   // a session opened before the first sighting may carry the next batch's mail

        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        await using var client = await SmtpClientSession.ConnectAsync(peer.EndPoint, new SmtpClientTimeouts(), CancellationToken.None);
        var noStartTls = new AttemptReport(ClientStage.Ehlo, Connected: true, EhloAccepted: true);
        var tls = noStartTls with { StartTlsOffered = true, Tls = new TlsFacts(true, null, Version: "TLSv1.3") };
        var cleartext = new EstablishedSession(client, Target(plain), noStartTls, OutcomeClassifier.Channel(plain, noStartTls));
        var encrypted = new EstablishedSession(client, Target(plain), tls, OutcomeClassifier.Channel(plain, tls));
        Assert.True(key.Admits(cleartext));
        Assert.False(raised.Admits(cleartext));
        Assert.True(raised.Admits(encrypted));
    }
}
