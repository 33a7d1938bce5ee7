using Relay.Policy.Classification;
using Relay.Policy.MtaSts;
using Relay.Policy.Planning;
using Relay.Policy.Tests.Classification;
using Relay.Policy.Tests.Planning;

namespace Relay.Policy.Tests.MtaSts;

/// <summary>MTA-STS as a plan input: pure, only raising, DANE and explicit policies first (RFC 8461 §2, §4, §5).</summary>
public class StsPlanOverlayTests
{
    private static StsInput Policy(StsMode mode, params string[] mx) =>
        new(new StsPolicy(mode, mx, TimeSpan.FromDays(1)), "id1", DateTimeOffset.UtcNow.AddDays(1), null, "test");

    /// <summary>example.com, insecure MX: mx1 (matches the policies below) and mx2 (does not).</summary>
    private static DeliveryPlan Unsigned(PolicyLevel level = PolicyLevel.Dane, DestinationPolicy? explicitPolicy = null) =>
        new Answers().Mx("example.com", false, (10, "mx1.example.com"), (20, "mx2.other.net"))
            .Host("mx1.example.com", false, "192.0.2.1").Host("mx2.other.net", false, "192.0.2.2").Plan("example.com", level, explicitPolicy);

    [Fact]
    public void Enforce_requires_pkix_for_the_matching_mx_name_and_skips_the_other_host()
    {
        var plan = StsPlanOverlay.Apply(Unsigned(), Policy(StsMode.Enforce, "*.example.com"));

        var (mx1, mx2) = (plan.Peers[0], plan.Peers[1]);
        Assert.Equal((PeerMode.Pkix, StsMode.Enforce, false), (mx1.Mode, mx1.Sts, mx1.CleartextFallbackAllowed));
        Assert.Equal(["mx1.example.com"], mx1.ReferenceIdentifiers.Select(r => r.Name));
        Assert.Equal(PeerMode.Skip, mx2.Mode);
        Assert.Contains("matches none", mx2.Why);
        Assert.Null(plan.Failure);
    }

    [Fact]
    public void Pkix_success_under_enforce_is_verified_by_mta_sts_and_anything_less_fails_the_requirement()
    {
        var peer = StsPlanOverlay.Apply(Unsigned(), Policy(StsMode.Enforce, "mx1.example.com")).Peers[0];

        var good = OutcomeClassifier.Classify(peer, ClassifierTests.Tls(ClassifierTests.PkixOk()));
        var unauthenticated = OutcomeClassifier.Classify(peer, ClassifierTests.Tls(PeerAuthentication.NotAttempted("self-signed")));

        Assert.Equal((TransportSecurity.Verified, AuthenticationMethod.MtaSts, true), (good.Transport, good.How, good.RequirementMet));
        Assert.Equal(TransportSecurity.Encrypted, unauthenticated.Transport);
        Assert.False(unauthenticated.RequirementMet);
    }

    [Fact]
    public void Enforce_with_no_matching_mx_defers_the_hop_rather_than_using_an_unlisted_host()
    {
        var plan = StsPlanOverlay.Apply(Unsigned(), Policy(StsMode.Enforce, "mail.elsewhere.org"));
        Assert.All(plan.Peers, p => Assert.Equal(PeerMode.Skip, p.Mode));
        Assert.Equal(PlanFailureKind.NoUsablePeer, plan.Failure?.Kind);
        Assert.False(plan.Failure!.Permanent);
    }

    [Fact]
    public void Testing_keeps_the_plan_and_says_what_enforcement_would_do()
    {
        var before = Unsigned();
        var plan = StsPlanOverlay.Apply(before, Policy(StsMode.Testing, "mx1.example.com"));

        Assert.Equal(before.Peers.Select(p => (p.Mode, p.CleartextFallbackAllowed)), plan.Peers.Select(p => (p.Mode, p.CleartextFallbackAllowed)));
        Assert.All(plan.Peers, p => Assert.Equal(StsMode.Testing, p.Sts));
        Assert.Contains("would skip mx2.other.net", plan.Peers[1].Why);
        // Testing never makes PKIX success more than opportunism would: trusted, not verified.
        var outcome = OutcomeClassifier.Classify(plan.Peers[0], ClassifierTests.Tls(ClassifierTests.PkixOk()));
        Assert.Equal(TransportSecurity.Trusted, outcome.Transport);
    }

    [Fact]
    public void Mode_none_and_no_policy_leave_the_plan_as_it_was()
    {
        var before = Unsigned();
        Assert.Same(before, StsPlanOverlay.Apply(before, Policy(StsMode.None)));
        Assert.Same(before, StsPlanOverlay.Apply(before, StsInput.NoPolicy("no TXT")));
    }

    [Fact]
    public void An_explicit_policy_wins_even_when_it_is_weaker()
    {
        var before = Unsigned(explicitPolicy: DestinationPolicy.FromWire("example.com", "may", [], [], null));
        Assert.Same(before, StsPlanOverlay.Apply(before, Policy(StsMode.Enforce, "*.example.com")));
    }

    [Fact]
    public void Dane_decides_where_secure_tlsa_exists_good_or_bad()
    {
        var plan = new Answers().Mx("example.com", true, (10, "mx1.example.com"), (20, "mx2.example.com"))
            .Host("mx1.example.com", true, "192.0.2.1").Tlsa("mx1.example.com", true, (3, 1, 1))
            .Host("mx2.example.com", true, "192.0.2.2").Bogus("_25._tcp.mx2.example.com", Relay.Dns.DnsType.TLSA).Plan("example.com");

        var after = StsPlanOverlay.Apply(plan, Policy(StsMode.Enforce, "nothing.example.org"));

        Assert.Equal(plan.Peers, after.Peers);
        Assert.Equal(PeerMode.Dane, after.Peers[0].Mode);
        Assert.Null(after.Peers[0].Sts);
    }

    [Fact]
    public void Enforce_raises_a_default_of_may_but_never_lowers_a_default_of_encrypt_to_cleartext()
    {
        var may = StsPlanOverlay.Apply(Unsigned(PolicyLevel.May), Policy(StsMode.Enforce, "mx1.example.com"));
        Assert.Equal(PeerMode.Pkix, may.Peers[0].Mode);
        var encrypt = StsPlanOverlay.Apply(Unsigned(PolicyLevel.Encrypt), Policy(StsMode.Testing, "mx1.example.com"));
        Assert.All(encrypt.Peers, p => Assert.False(p.CleartextFallbackAllowed));
    }
}
