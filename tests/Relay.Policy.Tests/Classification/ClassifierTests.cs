using Relay.Policy.Certificates;
using Relay.Policy.Classification;
using Relay.Policy.Dane;
using Relay.Policy.Planning;
using Relay.Smtp.Client;

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
        new(ClientStage.Dot, Connected: true, EhloAccepted: true, StartTlsOffered: true,
            Tls: new TlsFacts(true, auth, Version: "TLSv1.3", Cipher: "TLS_AES_256_GCM_SHA384"), MailAccepted: true, Recipients: replies);

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
        var noStartTls = new AttemptReport(ClientStage.Dot, Connected: true, EhloAccepted: true, MailAccepted: true,
            Recipients: [new RecipientReply("a@example.com", 250)]);
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.May, PeerMode.Opportunistic), noStartTls);
        Assert.Equal(TransportSecurity.Cleartext, outcome.Transport);
        Assert.Equal("starttls-not-offered", outcome.Reason);
        Assert.Equal(RecipientFate.Delivered, outcome.Recipients[0].Fate);

        var retried = noStartTls with { StartTlsOffered = true, CleartextRetry = true, Tls = new TlsFacts(false, null, Failure: "alert 40") };
        var afterFailure = OutcomeClassifier.Classify(Peer(PolicyLevel.May, PeerMode.Opportunistic), retried);
        Assert.Equal("tls-handshake-failed: alert 40", afterFailure.Reason);
        Assert.Equal(TlsRptResult.ValidationFailure, afterFailure.ResultType);
        Assert.Equal("policy-none", OutcomeClassifier.Classify(Peer(PolicyLevel.None, PeerMode.Cleartext), noStartTls).Reason);
    }

    [Fact]
    public void Required_tls_missing_sends_nothing_defers_recipients_with_the_policy_reason_and_names_the_result_type()
    {
        var report = new AttemptReport(ClientStage.Ehlo, Connected: true, EhloAccepted: true, Recipients: [new RecipientReply("a@example.com", null)],
            Error: "STARTTLS not offered; policy encrypt requires TLS");
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.Encrypt, PeerMode.Encrypt), report);
        Assert.Null(outcome.Transport);
        Assert.Equal("STARTTLS not offered; policy encrypt requires TLS", outcome.Reason);
        Assert.False(outcome.RequirementMet);
        Assert.Equal(TlsRptResult.StartTlsNotSupported, outcome.ResultType);
        Assert.Equal(RecipientFate.Deferred, outcome.Recipients[0].Fate);
        Assert.StartsWith("policy encrypt not met", outcome.Recipients[0].Reason);
    }

    [Fact]
    public void A_rejected_dane_certificate_sends_nothing_and_is_tlsa_invalid_never_cleartext()
    {
        var rejected = new PeerAuthentication(AuthenticationMethod.None, "no-match", Dane: new DaneResult(DaneVerdict.NoMatch));
        var report = new AttemptReport(ClientStage.Tls, Connected: true, EhloAccepted: true, StartTlsOffered: true,
            Tls: new TlsFacts(false, rejected, CertificateRejected: true, Failure: "certificate rejected: no-match"), Error: "certificate rejected: no-match");
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.Dane, PeerMode.Dane, tlsa: TlsaStatus.Secure), report);
        Assert.True(outcome.NothingSent);
        Assert.Equal("certificate rejected: no-match", outcome.Reason);
        Assert.Equal(TlsRptResult.TlsaInvalid, outcome.ResultType);
    }

    [Fact]
    public void A_refused_mail_from_sends_nothing_and_bounces_with_the_peer_reply()
    {
        var report = Tls(DaneOk(), new RecipientReply("a@example.com", 550, "5.7.1", "550 5.7.1 go away")) with { MailAccepted = false, Stage = ClientStage.Mail };
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.Dane, PeerMode.Dane, tlsa: TlsaStatus.Secure), report);
        Assert.Null(outcome.Transport);
        Assert.Equal("550 5.7.1 go away", outcome.Reason);
        Assert.Equal((RecipientFate.Bounced, "5.7.1"), (outcome.Recipients[0].Fate, outcome.Recipients[0].Status));
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
        var outcome = OutcomeClassifier.Classify(Peer(PolicyLevel.May, PeerMode.Opportunistic), Tls(null, new RecipientReply("a@example.com", code, Text: "text")));
        Assert.Equal(fate, Assert.Single(outcome.Recipients).Fate);
    }

    [Fact]
    public void Plan_failures_defer_or_bounce_every_recipient()
    {
        var bogus = HopOutcomes.ForPlanFailure(new PlanFailure(PlanFailureKind.MxLookupFailed, "MX bogus", TlsRptResult.DnssecInvalid), ["a@x", "b@x"]);
        Assert.All(bogus.Recipients, d => Assert.Equal((RecipientFate.Deferred, "4.4.3"), (d.Fate, d.Status)));
        Assert.Equal((null, TlsRptResult.DnssecInvalid), (bogus.Transport, bogus.ResultType));
        var nx = HopOutcomes.ForPlanFailure(new PlanFailure(PlanFailureKind.NoSuchDomain, "NXDOMAIN"), ["a@x"]);
        Assert.All(nx.Recipients, d => Assert.Equal((RecipientFate.Bounced, "5.1.2"), (d.Fate, d.Status)));
        var nullMx = HopOutcomes.ForPlanFailure(new PlanFailure(PlanFailureKind.NullMx, "null MX"), ["a@x"]);
        Assert.All(nullMx.Recipients, d => Assert.Equal((RecipientFate.Bounced, "5.1.10"), (d.Fate, d.Status)));
        Assert.True(nx.NothingSent && nullMx.NothingSent);
    }
}
