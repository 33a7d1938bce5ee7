using System.Net;
using Relay.Delivery.Planning;
using Relay.Delivery.Routing;
using Relay.Delivery.Sessions;
using Relay.Smtp.Client;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>Which parked session may serve which plan: equal keys only, and never cleartext where TLS is required.</summary>
public class SessionKeyTests
{
    private sealed class AnyJudge : ICertificateJudge
    {
        public CertificateVerdict Judge(TlsPeerEvidence evidence) => new(true, "encrypted", "none");
    }

    private static readonly PeerCandidate Peer = new("mx.example.test", IPAddress.Loopback, 25, "secure", "secure");

    private static PeerPlan Plan(string level = "dane", TlsMode tls = TlsMode.Opportunistic, string? identity = "judge-a",
        ICertificateJudge? judge = null) =>
        new(Peer, level, tls, "mx.example.test", judge ?? new AnyJudge()) { JudgeIdentity = identity };

    [Fact]
    public void Plans_made_alike_by_separate_planning_runs_share_a_key()
    {
        Assert.Equal(SessionKey.For("Example.test", Plan(), false), SessionKey.For("example.test", Plan(), false));
    }

    [Fact]
    public void A_different_judge_level_next_hop_or_REQUIRETLS_demand_gives_a_different_key()
    {
        var key = SessionKey.For("example.test", Plan(), false);
        Assert.NotEqual(key, SessionKey.For("example.test", Plan(identity: "judge-b"), false));
        Assert.NotEqual(key, SessionKey.For("example.test", Plan(level: "encrypt", tls: TlsMode.Required), false));
        Assert.NotEqual(key, SessionKey.For("other.test", Plan(), false));
        Assert.NotEqual(key, SessionKey.For("example.test", Plan(), true));
        // Without an identity text only the very same judge object counts as judging alike.
        var judge = new AnyJudge();
        Assert.Equal(SessionKey.For("example.test", Plan(identity: null, judge: judge), false),
            SessionKey.For("example.test", Plan(identity: null, judge: judge), false));
        Assert.NotEqual(SessionKey.For("example.test", Plan(identity: null), false), SessionKey.For("example.test", Plan(identity: null), false));
    }

    [Fact]
    public async Task A_cleartext_session_is_admitted_only_by_an_opportunistic_key_and_a_REQUIRETLS_key_admits_no_unverified_session()
    {
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        await using var client = await SmtpClientSession.ConnectAsync(peer.EndPoint, new SmtpClientTimeouts(), CancellationToken.None);
        var cleartext = new EstablishedSession(client, Plan(), TransportOutcome.Cleartext("starttls-not-offered"));
        var encrypted = new EstablishedSession(client, Plan(), new TransportOutcome("encrypted", "none", null, null));

        Assert.True(SessionKey.For("example.test", Plan(), false).Admits(cleartext));
        Assert.False(SessionKey.For("example.test", Plan(), true).Admits(cleartext));
        Assert.False(SessionKey.For("example.test", Plan(level: "encrypt", tls: TlsMode.Required), false).Admits(cleartext));
        Assert.True(SessionKey.For("example.test", Plan(level: "encrypt", tls: TlsMode.Required), false).Admits(encrypted));
        // RFC 8689 §4.2.1: TLS alone is not enough for REQUIRETLS; the session must be verified and the peer must announce it.
        Assert.False(SessionKey.For("example.test", Plan(), true).Admits(encrypted));
        var verifiedWithoutTls = new EstablishedSession(client, Plan(), new TransportOutcome("verified", "dane-ee", null, null));
        Assert.False(SessionKey.For("example.test", Plan(), true).Admits(verifiedWithoutTls));
        Assert.True(SessionKey.For("example.test", Plan(), false).Admits(verifiedWithoutTls));
    }
}
