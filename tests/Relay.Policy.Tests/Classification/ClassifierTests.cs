using Relay.Policy.Certificates;
using Relay.Policy.Classification;
using Relay.Policy.Dane;
using Relay.Policy.Planning;

namespace Relay.Policy.Tests.Classification;

public class ClassifierTests
{
    private static readonly TlsaAssociation Record = new(3, 1, 1, new byte[32]);

    internal static PeerPlan Peer(PolicyLevel level, PeerMode mode, MxDnssec mx = MxDnssec.Secure, TlsaStatus tlsa = TlsaStatus.NotQueried) =>
        new("mx.example.com", 10, [], level, mode, mx, AddressDnssec.Secure, tlsa, tlsa == TlsaStatus.Secure ? "mx.example.com" : null,
            tlsa == TlsaStatus.Secure ? [Record] : [], tlsa == TlsaStatus.Secure && mode == PeerMode.Dane ? [Record] : [],
            "mx.example.com", [new ReferenceIdentifier("mx.example.com")], ["AB"], mode is PeerMode.Opportunistic or PeerMode.Cleartext, "test");

    internal static PeerAuthentication DaneOk(int usage = 3) =>
        new(usage == 3 ? AuthenticationMethod.DaneEe : AuthenticationMethod.DaneTa, "ok",
            Dane: new DaneResult(DaneVerdict.Verified, usage, usage == 3 ? 0 : 1, Record));

    internal static PeerAuthentication PkixOk() => new(AuthenticationMethod.Pkix, "ok", Pkix: new PkixResult(PkixVerdict.Verified, "ok"));

    internal static AttemptReport Tls(PeerAuthentication? auth, params RecipientReply[] replies) =>
        new("quit", true, true, replies, "TLSv1.3", "TLS_AES_256_GCM_SHA384", Authentication: auth);

    [Fact]
    public void Dane_with_secure_mx_and_tlsa_is_verified()
    {
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.Dane, PeerMode.Dane, tlsa: TlsaStatus.Secure), Tls(DaneOk()));
        Assert.Equal(TransportSecurity.Verified, outcome.Transport);
        Assert.Equal(AuthenticationMethod.DaneEe, outcome.How);
        Assert.True(outcome.RequirementMet);
    }

    [Fact]
    public void Dane_via_an_insecure_mx_is_only_trusted()
    {
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.Dane, PeerMode.Dane, MxDnssec.Insecure, TlsaStatus.Secure), Tls(DaneOk(2)));
        Assert.Equal(TransportSecurity.Trusted, outcome.Transport);
        Assert.Equal(AuthenticationMethod.DaneTa, outcome.How);
        Assert.Equal("mx-not-dnssec-secure", outcome.Reason);
    }

    [Fact]
    public void Pkix_under_may_is_trusted_never_verified()
    {
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.May, PeerMode.Opportunistic), Tls(PkixOk()));
        Assert.Equal(TransportSecurity.Trusted, outcome.Transport);
        Assert.Equal(AuthenticationMethod.Pkix, outcome.How);
    }

    [Fact]
    public void Verify_with_insecure_mx_is_trusted_and_with_secure_mx_verified()
    {
        Assert.Equal(TransportSecurity.Trusted, OutcomeClassifier.Classify(Peer(PolicyLevel.Verify, PeerMode.Pkix, MxDnssec.Insecure), Tls(PkixOk())).Transport);
        Assert.Equal(TransportSecurity.Verified, OutcomeClassifier.Classify(Peer(PolicyLevel.Verify, PeerMode.Pkix, MxDnssec.Secure), Tls(PkixOk())).Transport);
        Assert.Equal(TransportSecurity.Verified, OutcomeClassifier.Classify(Peer(PolicyLevel.Secure, PeerMode.Pkix, MxDnssec.Insecure), Tls(PkixOk())).Transport);
    }

    [Fact]
    public void A_dane_claim_without_secure_tlsa_in_the_plan_is_not_believed()
    {
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.Dane, PeerMode.Opportunistic, tlsa: TlsaStatus.Insecure), Tls(DaneOk()));
        Assert.Equal(TransportSecurity.Encrypted, outcome.Transport);
        Assert.Equal(AuthenticationMethod.None, outcome.How);
    }

    [Fact]
    public void An_authentication_method_without_a_verified_result_counts_as_none()
    {
        var claim = new PeerAuthentication(AuthenticationMethod.DaneEe, "claimed", Dane: new DaneResult(DaneVerdict.NoMatch));
        Assert.Equal(TransportSecurity.Encrypted, OutcomeClassifier.Classify(Peer(PolicyLevel.Dane, PeerMode.Dane, tlsa: TlsaStatus.Secure), Tls(claim)).Transport);
    }

    [Fact]
    public void No_tls_is_cleartext_with_the_reason()
    {
        var noStartTls = new AttemptReport("mail", false, false, [new RecipientReply("a@example.com", 250)]);
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.May, PeerMode.Opportunistic), noStartTls);
        Assert.Equal(TransportSecurity.Cleartext, outcome.Transport);
        Assert.Equal("starttls-not-offered", outcome.Reason);
        Assert.Equal(RecipientFate.Delivered, outcome.Recipients[0].Fate);

        var failed = new AttemptReport("quit", true, false, [], TlsFailure: "alert 40");
        Assert.Equal("tls-handshake-failed: alert 40", OutcomeClassifier.Classify(Peer(PolicyLevel.May, PeerMode.Opportunistic), failed).Reason);
        Assert.Equal("policy-none", OutcomeClassifier.Classify(Peer(PolicyLevel.None, PeerMode.Cleartext), noStartTls).Reason);
    }

    [Fact]
    public void Required_tls_missing_defers_recipients_with_the_policy_reason()
    {
        var report = new AttemptReport("ehlo", false, false, [new RecipientReply("a@example.com", null)]);
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.Encrypt, PeerMode.Encrypt), report);
        Assert.False(outcome.RequirementMet);
        Assert.Equal(RecipientFate.Deferred, outcome.Recipients[0].Fate);
        Assert.StartsWith("policy encrypt not met", outcome.Recipients[0].Reason);
    }

    [Theory]
    [InlineData(250, RecipientFate.Delivered)]
    [InlineData(251, RecipientFate.Delivered)]
    [InlineData(421, RecipientFate.Deferred)]
    [InlineData(452, RecipientFate.Deferred)]
    [InlineData(550, RecipientFate.Bounced)]
    [InlineData(554, RecipientFate.Bounced)]
    [InlineData(354, RecipientFate.Deferred)]
    [InlineData(199, RecipientFate.Deferred)]
    [InlineData(650, RecipientFate.Deferred)]
    [InlineData(0, RecipientFate.Deferred)]
    public void Recipient_fate_follows_the_reply_class_and_unknown_is_temporary(int code, RecipientFate fate)
    {
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.May, PeerMode.Opportunistic), Tls(null, new RecipientReply("a@example.com", code, "text")));
        Assert.Equal(fate, Assert.Single(outcome.Recipients).Fate);
    }

    [Fact]
    public void Plan_failures_defer_or_bounce_every_recipient()
    {
        Assert.All(OutcomeClassifier.ForPlanFailure(new PlanFailure(false, "MX bogus"), ["a@x", "b@x"]), d => Assert.Equal(RecipientFate.Deferred, d.Fate));
        Assert.All(OutcomeClassifier.ForPlanFailure(new PlanFailure(true, "NXDOMAIN"), ["a@x"]), d => Assert.Equal(RecipientFate.Bounced, d.Fate));
    }
}
