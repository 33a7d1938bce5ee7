using Relay.Dns;
using Relay.Policy.Planning;

namespace Relay.Policy.Tests.Planning;

/// <summary>Issue 5 rules 2–8, 10 (reference names), 12 and 13 on the pure planner.</summary>
public class PlannerRuleTests
{
    [Fact]
    public void Secure_mx_and_secure_usable_tlsa_require_dane()
    {
        var plan = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true)
            .Tlsa("mx.example.com", true, (3, 1, 1)).Plan("example.com");
        var peer = Assert.Single(plan.Peers);
        Assert.Equal(PeerMode.Dane, peer.Mode);
        Assert.False(peer.CleartextFallbackAllowed);
        Assert.Equal(MxDnssec.Secure, peer.Mx);
        Assert.Equal(TlsaStatus.Secure, peer.TlsaStatus);
        Assert.Single(peer.UsableTlsa);
        Assert.Null(plan.Failure);
    }

    [Fact]
    public void Rule2_secure_tlsa_without_a_usable_record_requires_tls_unauthenticated_never_cleartext()
    {
        var plan = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true)
            .Tlsa("mx.example.com", true, (1, 1, 1), (3, 1, 9)).Plan("example.com");
        var peer = Assert.Single(plan.Peers);
        Assert.Equal(PeerMode.Encrypt, peer.Mode);
        Assert.True(peer.RequiresTls);
        Assert.False(peer.CleartextFallbackAllowed);
        Assert.Empty(peer.UsableTlsa);
    }

    [Fact]
    public void Rule3_bogus_tlsa_makes_the_host_unusable_and_the_next_mx_is_used()
    {
        var plan = new Answers().Mx("example.com", true, (10, "mx1.example.com"), (20, "mx2.example.com"))
            .Host("mx1.example.com", true).Bogus("_25._tcp.mx1.example.com", DnsType.TLSA)
            .Host("mx2.example.com", true).NoTlsa("mx2.example.com").Plan("example.com");
        Assert.Equal(PeerMode.Skip, plan.Peers[0].Mode);
        Assert.Equal(TlsaStatus.Bogus, plan.Peers[0].TlsaStatus);
        Assert.Contains("unusable", plan.Peers[0].Why);
        Assert.Equal(PeerMode.Opportunistic, plan.Peers[1].Mode);
        Assert.Null(plan.Failure);
    }

    [Fact]
    public void Rule3_tlsa_timeout_is_never_no_tlsa_and_defers_when_no_other_mx_exists()
    {
        var plan = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true)
            .Failure("_25._tcp.mx.example.com", DnsType.TLSA).Plan("example.com");
        Assert.Equal(PeerMode.Skip, Assert.Single(plan.Peers).Mode);
        Assert.Equal(TlsaStatus.Error, plan.Peers[0].TlsaStatus);
        Assert.NotNull(plan.Failure);
        Assert.False(plan.Failure!.Permanent);
    }

    [Fact]
    public void Rule4_insecure_address_records_mean_tlsa_is_not_queried()
    {
        var answers = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", false);
        var step = DeliveryPlanner.PlanFor(NextHop.ForDomain("example.com"), ResolvedPolicy.Default(PolicyLevel.Dane), answers.Set);
        Assert.True(step.IsComplete);
        var peer = Assert.Single(step.Plan!.Peers);
        Assert.Equal(TlsaStatus.NotQueried, peer.TlsaStatus);
        Assert.Equal(PeerMode.Opportunistic, peer.Mode);
        Assert.Equal(AddressDnssec.Insecure, peer.AddressStatus);
    }

    [Fact]
    public void Rule4_secure_cname_into_an_insecure_zone_still_queries_tlsa_at_the_original_name()
    {
        var chain = new DnsCnameChain("mx.example.com", [new DnsCnameLink("mx.example.com.", "host.unsigned.net.", true)]);
        var answers = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", false, chain: chain);
        var step = DeliveryPlanner.PlanFor(NextHop.ForDomain("example.com"), ResolvedPolicy.Default(PolicyLevel.Dane), answers.Set);
        Assert.Equal([new DnsLookup("_25._tcp.mx.example.com", DnsType.TLSA)], step.Missing);
        var plan = answers.Tlsa("mx.example.com", true, (3, 1, 1)).Plan("example.com");
        Assert.Equal(PeerMode.Dane, plan.Peers[0].Mode);
        Assert.Equal("mx.example.com", plan.Peers[0].TlsaBaseDomain);
    }

    [Fact]
    public void Rule5_cname_expanded_name_is_tried_first_then_the_original_and_intermediate_names_never()
    {
        var chain = new DnsCnameChain("mx.example.com", [
            new DnsCnameLink("mx.example.com.", "middle.example.net.", true),
            new DnsCnameLink("middle.example.net.", "final.example.org.", true)]);
        var answers = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true, chain: chain);
        var hop = NextHop.ForDomain("example.com");
        var policy = ResolvedPolicy.Default(PolicyLevel.Dane);
        Assert.Equal([new DnsLookup("_25._tcp.final.example.org", DnsType.TLSA)], DeliveryPlanner.PlanFor(hop, policy, answers.Set).Missing);
        answers.NoTlsa("final.example.org");
        Assert.Equal([new DnsLookup("_25._tcp.mx.example.com", DnsType.TLSA)], DeliveryPlanner.PlanFor(hop, policy, answers.Set).Missing);
        var plan = answers.Tlsa("mx.example.com", true, (2, 1, 1)).Plan("example.com");
        Assert.Equal("mx.example.com", plan.Peers[0].TlsaBaseDomain);
        Assert.DoesNotContain(plan.Peers[0].ReferenceIdentifiers, r => r.Name == "middle.example.net");
    }

    [Fact]
    public void Rule5_expanded_name_with_tlsa_is_the_base_domain_and_the_sni()
    {
        var chain = new DnsCnameChain("mx.example.com", [new DnsCnameLink("mx.example.com.", "final.example.org.", true)]);
        var plan = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true, chain: chain)
            .Tlsa("final.example.org", true, (3, 1, 1)).Plan("example.com");
        Assert.Equal("final.example.org", plan.Peers[0].TlsaBaseDomain);
        Assert.Equal("final.example.org", plan.Peers[0].Sni);
    }

    [Fact]
    public void Rule5_cname_at_the_tlsa_owner_does_not_change_the_base_domain()
    {
        var tlsaChain = new DnsCnameChain("_25._tcp.mx.example.com", [new DnsCnameLink("_25._tcp.mx.example.com.", "tlsa.example.net.", true)]);
        var answers = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true);
        answers.Put("_25._tcp.mx.example.com", DnsType.TLSA, true, [new TlsaRecord("tlsa.example.net", 300, 3, 1, 1, Answers.Hash)], tlsaChain);
        var peer = answers.Plan("example.com").Peers[0];
        Assert.Equal(PeerMode.Dane, peer.Mode);
        Assert.Equal("mx.example.com", peer.TlsaBaseDomain);
        Assert.Equal("mx.example.com", peer.Sni);
    }

    [Fact]
    public void Rule6_insecure_mx_still_uses_dane_for_a_secure_host_but_only_the_base_domain_is_a_reference_name()
    {
        var plan = new Answers().Mx("example.com", false, (10, "mx.example.net")).Host("mx.example.net", true)
            .Tlsa("mx.example.net", true, (2, 1, 1)).Plan("example.com");
        var peer = plan.Peers[0];
        Assert.Equal(PeerMode.Dane, peer.Mode);
        Assert.Equal(MxDnssec.Insecure, peer.Mx);
        Assert.False(peer.PeerChoiceIsSecure);
        Assert.Equal(["mx.example.net"], peer.ReferenceIdentifiers.Select(r => r.ToString()));
    }

    [Fact]
    public void Rule10_secure_mx_adds_the_next_hop_domain_as_a_reference_name()
    {
        var plan = new Answers().Mx("example.com", true, (10, "mx.example.net")).Host("mx.example.net", true)
            .Tlsa("mx.example.net", true, (2, 1, 1)).Plan("example.com");
        Assert.Equal(["mx.example.net", "example.com"], plan.Peers[0].ReferenceIdentifiers.Select(r => r.ToString()));
    }

    [Fact]
    public void Rule7_mx_preference_wins_over_tlsa_presence()
    {
        var plan = new Answers().Mx("example.com", true, (20, "dane.example.com"), (10, "plain.example.com"))
            .Host("dane.example.com", true).Tlsa("dane.example.com", true, (3, 1, 1))
            .Host("plain.example.com", true).NoTlsa("plain.example.com").Plan("example.com");
        Assert.Equal(["plain.example.com", "dane.example.com"], plan.Peers.Select(p => p.Host));
        Assert.Equal(PeerMode.Opportunistic, plan.Peers[0].Mode);
        Assert.Equal(PeerMode.Dane, plan.Peers[1].Mode);
    }

    [Fact]
    public void Rule8_domain_without_mx_is_its_own_host_and_a_dane_candidate()
    {
        var answers = new Answers().Put("example.com", DnsType.MX, true, []).Host("example.com", true).Tlsa("example.com", true, (3, 1, 1));
        var peer = Assert.Single(answers.Plan("example.com").Peers);
        Assert.Equal("example.com", peer.Host);
        Assert.Equal(PeerMode.Dane, peer.Mode);
        Assert.Equal(MxDnssec.Secure, peer.Mx);
    }

    [Fact]
    public void Rule12_sni_is_the_tlsa_base_domain_under_dane()
    {
        var peer = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true)
            .Tlsa("mx.example.com", true, (3, 1, 1)).Plan("example.com").Peers[0];
        Assert.Equal("mx.example.com", peer.Sni);
    }

    [Fact]
    public void Rule13_dane_only_defers_when_the_mx_is_insecure()
    {
        var answers = new Answers().Mx("example.com", false, (10, "mx.example.com")).Host("mx.example.com", true)
            .Tlsa("mx.example.com", true, (3, 1, 1));
        var plan = answers.Plan("example.com", PolicyLevel.DaneOnly);
        Assert.Equal(PeerMode.Skip, plan.Peers[0].Mode);
        Assert.Contains("not DNSSEC-secure", plan.Peers[0].Why);
        Assert.False(plan.Failure!.Permanent);
    }

    [Fact]
    public void Rule13_dane_only_defers_without_usable_tlsa()
    {
        var plan = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true)
            .Tlsa("mx.example.com", true, (0, 1, 1)).Plan("example.com", PolicyLevel.DaneOnly);
        Assert.Equal(PeerMode.Skip, plan.Peers[0].Mode);
        Assert.NotNull(plan.Failure);
        var noTlsa = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true)
            .NoTlsa("mx.example.com").Plan("example.com", PolicyLevel.DaneOnly);
        Assert.Equal(PeerMode.Skip, noTlsa.Peers[0].Mode);
    }

    [Fact]
    public void Dane_without_tlsa_behaves_as_may_and_allows_cleartext_fallback()
    {
        var peer = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true)
            .NoTlsa("mx.example.com").Plan("example.com").Peers[0];
        Assert.Equal(PeerMode.Opportunistic, peer.Mode);
        Assert.True(peer.CleartextFallbackAllowed);
        Assert.Equal(TlsaStatus.SecureEmpty, peer.TlsaStatus);
        Assert.Equal(PolicyLevel.Dane, peer.Level);
        Assert.Equal(PolicyLevel.May, peer.EffectiveLevel);
    }

    [Fact]
    public void Nxdomain_and_null_mx_fail_permanently_and_bogus_mx_temporarily()
    {
        var nx = new Answers();
        nx.Set.Add("example.com", DnsType.MX, new DnsResult.NxDomain("example.com", DnsType.MX, true, 300));
        Assert.True(nx.Plan("example.com").Failure!.Permanent);
        Assert.True(new Answers().Mx("example.com", true, (0, ".")).Plan("example.com").Failure!.Permanent);
        var bogus = new Answers().Bogus("example.com", DnsType.MX).Plan("example.com");
        Assert.False(bogus.Failure!.Permanent);
        Assert.Equal(MxDnssec.Bogus, bogus.Mx);
    }

    [Fact]
    public void Bogus_address_records_make_the_host_unusable()
    {
        var answers = new Answers().Mx("example.com", true, (10, "mx.example.com")).Bogus("mx.example.com", DnsType.A)
            .Put("mx.example.com", DnsType.AAAA, true, []);
        Assert.Equal(PeerMode.Skip, answers.Plan("example.com").Peers[0].Mode);
    }

    [Theory]
    [InlineData(PolicyLevel.None, PeerMode.Cleartext, true)]
    [InlineData(PolicyLevel.May, PeerMode.Opportunistic, true)]
    [InlineData(PolicyLevel.Encrypt, PeerMode.Encrypt, false)]
    [InlineData(PolicyLevel.Verify, PeerMode.Pkix, false)]
    [InlineData(PolicyLevel.Secure, PeerMode.Pkix, false)]
    public void Non_dane_levels_never_ask_for_tlsa(PolicyLevel level, PeerMode mode, bool fallback)
    {
        var plan = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true).Plan("example.com", level);
        Assert.Equal(mode, plan.Peers[0].Mode);
        Assert.Equal(fallback, plan.Peers[0].CleartextFallbackAllowed);
        Assert.Equal(TlsaStatus.NotQueried, plan.Peers[0].TlsaStatus);
    }

    [Fact]
    public void Verify_checks_the_mx_host_name_and_secure_the_next_hop_domain_and_its_subdomains()
    {
        var answers = new Answers().Mx("example.com", true, (10, "mx.example.com")).Host("mx.example.com", true);
        Assert.Equal(["mx.example.com"], answers.Plan("example.com", PolicyLevel.Verify).Peers[0].ReferenceIdentifiers.Select(r => r.ToString()));
        Assert.Equal(["example.com", ".example.com"], answers.Plan("example.com", PolicyLevel.Secure).Peers[0].ReferenceIdentifiers.Select(r => r.ToString()));
    }

    [Fact]
    public void Literal_route_has_no_mx_lookup_and_no_dane()
    {
        var step = DeliveryPlanner.PlanFor(NextHop.ForRoute("example.org", "[10.0.0.5]:2525"), ResolvedPolicy.Default(PolicyLevel.Dane), new DnsAnswers());
        var peer = Assert.Single(step.Plan!.Peers);
        Assert.Equal(MxDnssec.Route, peer.Mx);
        Assert.Equal(AddressDnssec.Literal, peer.AddressStatus);
        Assert.Equal(PeerMode.Opportunistic, peer.Mode);
        Assert.Equal(2525, step.Plan.NextHop.Port);
    }

    [Fact]
    public void Host_route_skips_the_mx_lookup_and_its_dane_success_counts_as_a_secure_choice()
    {
        var answers = new Answers().Host("store.internal.example", true).Tlsa("store.internal.example", true, (2, 1, 1));
        var step = DeliveryPlanner.PlanFor(NextHop.ForRoute("example.org", "[store.internal.example]"), ResolvedPolicy.Default(PolicyLevel.Dane), answers.Set);
        var peer = Assert.Single(step.Plan!.Peers);
        Assert.Equal(PeerMode.Dane, peer.Mode);
        Assert.True(peer.PeerChoiceIsSecure);
    }
}
