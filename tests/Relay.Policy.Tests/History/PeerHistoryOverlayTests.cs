using Relay.Policy.Classification;
using Relay.Policy.History;
using Relay.Policy.Planning;
using Relay.Policy.Tests.Classification;
using Relay.Smtp.Client;

namespace Relay.Policy.Tests.History;

/// <summary>Peer history as a plan input (RFC 7435 §3): it only raises opportunism, explicit policy wins, DANE and MTA-STS stay.</summary>
public class PeerHistoryOverlayTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly HistorySettings Settings = new(true, TimeSpan.FromDays(30));

    private static PeerHistoryFacts Seen(int daysAgo, params string[] keys) =>
        new(Now.AddDays(-daysAgo), Now.AddDays(-daysAgo), keys);

    private static AttemptReport NoStartTls() =>
        new(ClientStage.Dot, Connected: true, EhloAccepted: true, StartTlsOffered: false, MailAccepted: true);

    [Fact]
    public void Opportunistic_peer_seen_with_tls_in_the_window_requires_tls_and_says_it_is_history()
    {
        var peer = PeerHistoryOverlay.Apply(ClassifierTests.Peer(PolicyLevel.Dane, PeerMode.Opportunistic, MxDnssec.Insecure), Seen(29), Settings, false, Now);

        Assert.Equal((PeerMode.Encrypt, false, true), (peer.Mode, peer.CleartextFallbackAllowed, peer.History!.Protected));
        Assert.Contains("downgrade protection", peer.Why);
        Assert.StartsWith("downgrade protection (TLS with mx.example.com completed within the last 30 days", peer.TlsRequirer);
        var outcome = OutcomeClassifier.Classify(peer, NoStartTls());
        Assert.False(outcome.RequirementMet);
        Assert.StartsWith("downgrade protection", OutcomeClassifier.Channel(peer, NoStartTls()).Unmet);
        Assert.StartsWith("possible downgrade: mx.example.com offered STARTTLS within the last 30 days", outcome.Downgrade);
    }

    [Fact]
    public void Outside_the_window_the_history_is_carried_but_neither_protects_nor_flags()
    {
        var peer = PeerHistoryOverlay.Apply(ClassifierTests.Peer(PolicyLevel.May, PeerMode.Opportunistic), Seen(31), Settings, false, Now);

        Assert.Equal(PeerMode.Opportunistic, peer.Mode);
        Assert.Equal((false, false, false), (peer.History!.TlsRecently, peer.History.OfferedStartTlsRecently, peer.History.Protected));
        var outcome = OutcomeClassifier.Classify(peer, NoStartTls());
        Assert.Equal(TransportSecurity.Cleartext, outcome.Transport);
        Assert.Null(outcome.Downgrade);
    }

    [Fact]
    public void With_protection_off_the_plan_still_allows_cleartext_and_the_classifier_still_flags()
    {
        var peer = PeerHistoryOverlay.Apply(ClassifierTests.Peer(PolicyLevel.Dane, PeerMode.Opportunistic), Seen(1), Settings with { DowngradeProtection = false }, false, Now);

        Assert.Equal((PeerMode.Opportunistic, true), (peer.Mode, peer.CleartextFallbackAllowed));
        var outcome = OutcomeClassifier.Classify(peer, NoStartTls());
        Assert.Equal(TransportSecurity.Cleartext, outcome.Transport);
        Assert.Equal("starttls-not-offered", outcome.Reason);
        Assert.NotNull(outcome.Downgrade);
    }

    [Fact]
    public void An_explicit_policy_wins_over_history_even_may_and_none()
    {
        foreach (var (level, mode) in new[] { (PolicyLevel.May, PeerMode.Opportunistic), (PolicyLevel.None, PeerMode.Cleartext) })
        {
            var before = ClassifierTests.Peer(level, mode);
            var peer = PeerHistoryOverlay.Apply(before, Seen(1), Settings, explicitPolicy: true, Now);
            Assert.Equal((before.Mode, before.CleartextFallbackAllowed, before.Why), (peer.Mode, peer.CleartextFallbackAllowed, peer.Why));
            Assert.False(peer.History!.Protected);
        }
    }

    [Fact]
    public void Dane_pkix_fingerprint_and_encrypt_plans_are_left_as_they_are()
    {
        foreach (var (level, mode) in new[] { (PolicyLevel.Dane, PeerMode.Dane), (PolicyLevel.Verify, PeerMode.Pkix),
                     (PolicyLevel.Fingerprint, PeerMode.Fingerprint), (PolicyLevel.Encrypt, PeerMode.Encrypt), (PolicyLevel.DaneOnly, PeerMode.Skip) })
        {
            var before = ClassifierTests.Peer(level, mode, tlsa: mode == PeerMode.Dane ? TlsaStatus.Secure : TlsaStatus.NotQueried);
            var peer = PeerHistoryOverlay.Apply(before, Seen(1), Settings, false, Now);
            Assert.Equal((before.Mode, before.CleartextFallbackAllowed, before.Why, before.EffectiveLevel),
                (peer.Mode, peer.CleartextFallbackAllowed, peer.Why, peer.EffectiveLevel));
        }
    }

    [Fact]
    public void Sts_testing_peer_is_raised_and_keeps_its_testing_facts()
    {
        var testing = ClassifierTests.Peer(PolicyLevel.Dane, PeerMode.Opportunistic, MxDnssec.Insecure) with
            { Sts = StsMode.Testing, StsTesting = new Relay.Policy.MtaSts.StsTestingFacts(true, null) };
        var peer = PeerHistoryOverlay.Apply(testing, Seen(2), Settings, false, Now);
        Assert.Equal((PeerMode.Encrypt, StsMode.Testing), (peer.Mode, peer.Sts));
        Assert.NotNull(peer.StsTesting);
    }

    [Fact]
    public void Refused_starttls_and_broken_handshakes_are_downgrades_a_refused_certificate_and_an_unreachable_peer_are_not()
    {
        var peer = PeerHistoryOverlay.Apply(ClassifierTests.Peer(PolicyLevel.Dane, PeerMode.Opportunistic), Seen(1), Settings, false, Now);
        AttemptReport Report(TlsFacts? tls = null, string? refused = null, bool connected = true) =>
            new(ClientStage.StartTls, Connected: connected, EhloAccepted: connected, StartTlsOffered: connected, StartTlsRefused: refused, Tls: tls);

        Assert.Contains("STARTTLS is refused (454 4.7.0 not now)", OutcomeClassifier.Classify(peer, Report(refused: "454 4.7.0 not now")).Downgrade);
        Assert.Contains("the handshake fails (reset)", OutcomeClassifier.Classify(peer, Report(new TlsFacts(false, null, Failure: "reset"))).Downgrade);
        Assert.Null(OutcomeClassifier.Classify(peer, Report(new TlsFacts(false, null, CertificateRejected: true, Failure: "bad"))).Downgrade);
        Assert.Null(OutcomeClassifier.Classify(peer, new AttemptReport(ClientStage.Connect, Error: "connection refused")).Downgrade);
        Assert.Null(OutcomeClassifier.Classify(peer, ClassifierTests.Tls(null)).Downgrade);
    }

    [Fact]
    public void A_key_not_seen_before_is_a_key_change_the_first_key_is_not()
    {
        var known = PeerHistoryOverlay.Apply(ClassifierTests.Peer(PolicyLevel.May, PeerMode.Opportunistic), Seen(1, "aa11"), Settings, false, Now);
        var fresh = PeerHistoryOverlay.Apply(ClassifierTests.Peer(PolicyLevel.May, PeerMode.Opportunistic), Seen(1), Settings, false, Now);
        AttemptReport With(string spki) => ClassifierTests.Tls(null) with { Tls = new TlsFacts(true, null, Version: "TLSv1.3", PeerSpki: spki) };

        Assert.True(OutcomeClassifier.Classify(known, With("bb22")).KeyChanged);
        Assert.False(OutcomeClassifier.Classify(known, With("AA11")).KeyChanged);
        Assert.False(OutcomeClassifier.Classify(fresh, With("bb22")).KeyChanged);
        Assert.Equal(TransportSecurity.Encrypted, OutcomeClassifier.Classify(known, With("bb22")).Transport);   // recorded, never blocking
    }

    [Fact]
    public void Plans_from_the_same_history_at_different_times_are_equal_so_parked_sessions_stay_usable()
    {
        var basis = ClassifierTests.Peer(PolicyLevel.Dane, PeerMode.Opportunistic);
        var earlier = PeerHistoryOverlay.Apply(basis, Seen(3, "aa"), Settings, false, Now);
        var later = PeerHistoryOverlay.Apply(basis, Seen(2, "aa"), Settings, false, Now.AddMinutes(5));
        var otherKeys = PeerHistoryOverlay.Apply(basis, Seen(2, "aa", "bb"), Settings, false, Now);
        Assert.Equal(earlier, later);
        Assert.NotEqual(earlier, otherKeys);
        Assert.NotEqual(basis, earlier);
    }

    [Theory]
    [InlineData("MX.Example.COM.", "mx.example.com")]
    [InlineData(" 192.0.2.1 ", "192.0.2.1")]
    [InlineData("[2001:db8::1]", "2001:db8::1")]
    public void Peer_names_normalize(string text, string expected) => Assert.Equal(expected, PeerName.Parse(text).Value);

    [Theory]
    [InlineData("")]
    [InlineData("bad..name")]
    [InlineData("-x.example")]
    [InlineData("a b")]
    [InlineData("1.2.3")]
    public void Bad_peer_names_are_refused_naming_the_value(string text)
    {
        var (value, error) = PeerName.Parse(text);
        Assert.Null(value);
        Assert.Contains(text.Length == 0 ? "empty" : $"'{text}'", error);
    }
}
