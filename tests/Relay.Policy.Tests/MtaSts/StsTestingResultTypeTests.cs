using Relay.Policy.Certificates;
using Relay.Policy.Classification;
using Relay.Policy.MtaSts;
using Relay.Policy.Planning;
using Relay.Policy.Tests.Classification;
using Relay.Policy.Tests.Planning;
using Relay.Smtp.Client;

namespace Relay.Policy.Tests.MtaSts;

/// <summary>
/// RFC 8461 §5 `testing`: the session is classified as the underlying plan allows, and only its result type records the
/// failure enforcement would have caused (the policy fetch, an unlisted MX, a certificate that fails PKIX for the MX name).
/// </summary>
public class StsTestingResultTypeTests
{
    private static readonly RecipientReply Accepted = new("a@example.com", 250, "2.0.0", "250 ok");

    /// <summary>example.com, insecure MX, no TLSA: mx1 is listed by the policy, mx2 is not; both plan as `may`-like opportunism.</summary>
    private static DeliveryPlan Plan(StsMode mode, StsFetch.Failed? fetchFailure = null) => StsPlanOverlay.Apply(
        new Answers().Mx("example.com", false, (10, "mx1.example.com"), (20, "mx2.other.net"))
            .Host("mx1.example.com", false, "192.0.2.1").Host("mx2.other.net", false, "192.0.2.2").Plan("example.com"),
        new StsInput(new StsPolicy(mode, ["mx1.example.com"], TimeSpan.FromDays(1)), "id1", DateTimeOffset.UtcNow.AddDays(1), fetchFailure, "test"));

    private static PeerAuthentication Pkix(PkixVerdict verdict) =>
        new(verdict == PkixVerdict.Verified ? AuthenticationMethod.Pkix : AuthenticationMethod.None, $"pkix {verdict}", Pkix: new PkixResult(verdict, "test"));

    /// <summary>Classifies under the testing plan and under the same peer without MTA-STS: everything but the result type must agree.</summary>
    private static TlsRptResult? TestingResult(PeerPlan testing, AttemptReport report)
    {
        var outcome = OutcomeClassifier.Classify(testing, report);
        var without = OutcomeClassifier.Classify(testing with { Sts = null, StsTesting = null }, report);
        Assert.Equal((without.Transport, without.How, without.Reason, without.RequirementMet), (outcome.Transport, outcome.How, outcome.Reason, outcome.RequirementMet));
        Assert.Equal(without.Recipients, outcome.Recipients);
        return outcome.ResultType;
    }

    [Fact]
    public void A_failed_refetch_under_a_cached_testing_policy_records_its_sts_type_and_delivers_as_before()
    {
        foreach (var type in new[] { TlsRptResult.StsPolicyFetchError, TlsRptResult.StsPolicyInvalid, TlsRptResult.StsWebpkiInvalid })
        {
            var peer = Plan(StsMode.Testing, new StsFetch.Failed(type, "test failure")).Peers[0];
            var report = ClassifierTests.Tls(Pkix(PkixVerdict.Verified), Accepted);
            Assert.Equal(type, TestingResult(peer, report));
            Assert.Equal(TransportSecurity.Trusted, OutcomeClassifier.Classify(peer, report).Transport);
        }
    }

    [Fact]
    public void An_mx_the_patterns_do_not_list_is_a_validation_failure_though_the_mail_went()
    {
        var unlisted = Plan(StsMode.Testing).Peers[1];
        Assert.Equal(PeerMode.Opportunistic, unlisted.Mode);
        var report = ClassifierTests.Tls(Pkix(PkixVerdict.Verified), Accepted);
        Assert.Equal(TlsRptResult.ValidationFailure, TestingResult(unlisted, report));
        Assert.Equal(RecipientFate.Delivered, OutcomeClassifier.Classify(unlisted, report).Recipients[0].Fate);
    }

    [Theory]
    [InlineData(PkixVerdict.ChainInvalid, TlsRptResult.CertificateNotTrusted)]
    [InlineData(PkixVerdict.NameMismatch, TlsRptResult.CertificateHostMismatch)]
    [InlineData(PkixVerdict.Expired, TlsRptResult.CertificateExpired)]
    public void A_certificate_that_fails_pkix_for_the_mx_name_records_why_and_stays_encrypted(PkixVerdict verdict, TlsRptResult expected)
    {
        var peer = Plan(StsMode.Testing).Peers[0];
        var report = ClassifierTests.Tls(Pkix(verdict), Accepted);
        Assert.Equal(expected, TestingResult(peer, report));
        Assert.Equal(TransportSecurity.Encrypted, OutcomeClassifier.Classify(peer, report).Transport);
        // The same session without a testing policy is opportunism doing its job: nothing failed.
        Assert.Null(OutcomeClassifier.Classify(peer with { Sts = null, StsTesting = null }, report).ResultType);
    }

    [Fact]
    public void A_listed_mx_with_pkix_and_tls_1_2_or_later_records_nothing_and_an_older_version_is_a_validation_failure()
    {
        var peer = Plan(StsMode.Testing).Peers[0];
        Assert.Null(TestingResult(peer, ClassifierTests.Tls(Pkix(PkixVerdict.Verified), Accepted)));
        var old = ClassifierTests.Tls(Pkix(PkixVerdict.Verified), Accepted) is var r ? r with { Tls = r.Tls! with { Version = "TLSv1.1" } } : null;
        Assert.Equal(TlsRptResult.ValidationFailure, TestingResult(peer, old!));
    }

    [Fact]
    public void Cleartext_because_starttls_was_missing_keeps_its_own_type_and_cleartext_transport()
    {
        var peer = Plan(StsMode.Testing).Peers[0];
        var report = new AttemptReport(ClientStage.Dot, Connected: true, EhloAccepted: true, StartTlsOffered: false, MailAccepted: true, Recipients: [Accepted]);
        Assert.Equal(TlsRptResult.StartTlsNotSupported, TestingResult(peer, report));
        Assert.Equal(TransportSecurity.Cleartext, OutcomeClassifier.Classify(peer, report).Transport);
    }

    [Fact]
    public void Enforce_and_a_session_that_never_reached_tls_are_not_given_testing_types()
    {
        // Enforce decides by itself (a failure defers); its cached policy's failed refetch is not a testing record.
        var enforced = Plan(StsMode.Enforce, new StsFetch.Failed(TlsRptResult.StsPolicyFetchError, "down")).Peers[0];
        Assert.Null(enforced.StsTesting);
        Assert.Null(OutcomeClassifier.Classify(enforced, ClassifierTests.Tls(Pkix(PkixVerdict.Verified), Accepted)).ResultType);
        // A listed MX that refused the connection: enforcement would have met the same wall, and no TLS was judged.
        var listed = Plan(StsMode.Testing).Peers[0];
        Assert.Null(TestingResult(listed, new AttemptReport(ClientStage.Connect, Error: "connection refused")));
    }
}
