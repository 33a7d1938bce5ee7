using Relay.Policy.Classification;
using Relay.Policy.Certificates;
using Relay.Policy.Planning;
using Relay.TestKit.Dns;
using Relay.Policy.Tests.Classification;

namespace Relay.Policy.Tests.Planning;

/// <summary>The planner through Relay.Dns against nsd + unbound: the cases issue 5 lists for the DNS world.</summary>
public class PlannerDnsWorldTests(PolicyDnsWorldFixture fixture) : IClassFixture<PolicyDnsWorldFixture>
{
    private async Task<DeliveryPlan> PlanAsync(string domain, PolicyLevel level = PolicyLevel.Dane)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var service = new DeliveryPlanService(fixture.Resolver, new PolicyTable([], level));
        return await service.PlanAsync(NextHop.ForDomain(domain.TrimEnd('.')), cts.Token);
    }

    private string Log => fixture.World.ResolverLog;

    [Fact]
    public async Task Secure_mx_and_tlsa_plan_dane_and_the_matching_leaf_is_verified()
    {
        var plan = await PlanAsync("policy.example");
        var peer = Assert.Single(plan.Peers);
        Assert.True(peer.Mode == PeerMode.Dane, $"{peer.Why}\n{Log}");
        Assert.Equal(MxDnssec.Secure, peer.Mx);
        Assert.Equal("mx.policy.example", peer.Sni);

        var (auth, accept) = new PeerAuthenticator().Authenticate(peer, [fixture.EeLeaf]);
        Assert.True(accept);
        var outcome = OutcomeClassifier.Classify(peer, ClassifierTests.Tls(auth));
        Assert.Equal(TransportSecurity.Verified, outcome.Transport);
        Assert.Equal(AuthenticationMethod.DaneEe, outcome.How);
        Assert.True(fixture.Resolver.ExchangeCount > 0, "answers must come from unbound, not from a cache of nothing");
    }

    [Fact]
    public async Task Insecure_mx_to_a_dane_host_plans_dane_but_classifies_trusted()
    {
        var plan = await PlanAsync("crossmx.insecure.example");
        var peer = Assert.Single(plan.Peers);
        Assert.Equal(MxDnssec.Insecure, peer.Mx);
        Assert.True(peer.Mode == PeerMode.Dane, peer.Why);
        var (auth, accept) = new PeerAuthenticator().Authenticate(peer, [fixture.EeLeaf]);
        Assert.True(accept);
        Assert.Equal(TransportSecurity.Trusted, OutcomeClassifier.Classify(peer, ClassifierTests.Tls(auth)).Transport);
    }

    [Fact]
    public async Task Wrong_certificate_for_a_dane_peer_is_refused()
    {
        var peer = (await PlanAsync("policy.example")).Peers[0];
        var (auth, accept) = new PeerAuthenticator().Authenticate(peer, [TestPki.Leaf(null, ["mx.policy.example"])]);
        Assert.False(accept);
        var outcome = OutcomeClassifier.Classify(peer, ClassifierTests.Tls(auth, new global::Relay.Policy.Classification.RecipientReply("a@policy.example", null)));
        Assert.Equal(TransportSecurity.Encrypted, outcome.Transport);
        Assert.False(outcome.RequirementMet);
        Assert.Equal(RecipientFate.Deferred, outcome.Recipients[0].Fate);
    }

    [Fact]
    public async Task Dane_ta_accepts_the_next_hop_domain_in_the_leaf_when_the_mx_is_secure()
    {
        var peer = (await PlanAsync("ta.policy.example")).Peers[0];
        Assert.Contains(peer.ReferenceIdentifiers, r => r.Name == "ta.policy.example");
        var (auth, accept) = new PeerAuthenticator().Authenticate(peer, fixture.TaChain.Presented);
        Assert.True(accept, auth.Detail);
        Assert.Equal(AuthenticationMethod.DaneTa, auth.Method);
    }

    [Fact]
    public async Task Insecure_mx_and_insecure_host_do_not_query_tlsa_and_behave_as_may()
    {
        var peer = Assert.Single((await PlanAsync(StandardDnsWorld.InsecureDomain)).Peers);
        Assert.Equal(MxDnssec.Insecure, peer.Mx);
        Assert.Equal(AddressDnssec.Insecure, peer.AddressStatus);
        Assert.Equal(TlsaStatus.NotQueried, peer.TlsaStatus);
        Assert.Equal(PeerMode.Opportunistic, peer.Mode);
    }

    [Fact]
    public async Task Servfail_on_tlsa_skips_that_mx_and_uses_the_next()
    {
        var plan = await PlanAsync("badtlsa.policy.example");
        Assert.Equal(2, plan.Peers.Count);
        Assert.True(plan.Peers[0].TlsaStatus == TlsaStatus.Bogus, $"{plan.Peers[0].TlsaStatus}: {plan.Peers[0].Why}\n{Log}");
        Assert.Equal(PeerMode.Skip, plan.Peers[0].Mode);
        Assert.Equal(PeerMode.Dane, plan.Peers[1].Mode);
    }

    [Fact]
    public async Task Secure_cname_chain_uses_the_expanded_name_as_tlsa_base()
    {
        var peer = Assert.Single((await PlanAsync("cname.policy.example")).Peers);
        Assert.Equal("alias.secure.example", peer.Host);
        Assert.True(peer.Mode == PeerMode.Dane, peer.Why);
        Assert.Equal("mx.secure.example", peer.TlsaBaseDomain);
        Assert.Equal("mx.secure.example", peer.Sni);
    }

    [Fact]
    public async Task Secure_cname_into_an_insecure_zone_uses_tlsa_at_the_original_name()
    {
        var peer = Assert.Single((await PlanAsync("toinsecure.policy.example")).Peers);
        Assert.Equal(AddressDnssec.Insecure, peer.AddressStatus);
        Assert.True(peer.Mode == PeerMode.Dane, peer.Why);
        Assert.Equal("toinsecure.secure.example", peer.TlsaBaseDomain);
    }

    [Fact]
    public async Task Domain_without_mx_is_a_dane_candidate()
    {
        var peer = Assert.Single((await PlanAsync("nomx.policy.example")).Peers);
        Assert.Equal("nomx.policy.example", peer.Host);
        Assert.Equal(MxDnssec.Secure, peer.Mx);
        Assert.Equal(PeerMode.Dane, peer.Mode);
    }

    [Fact]
    public async Task Secure_but_unusable_tlsa_requires_encryption()
    {
        var peer = Assert.Single((await PlanAsync("unusable.policy.example")).Peers);
        Assert.Equal(PeerMode.Encrypt, peer.Mode);
        Assert.False(peer.CleartextFallbackAllowed);
    }

    [Fact]
    public async Task Bogus_mx_defers_the_whole_next_hop()
    {
        var plan = await PlanAsync(StandardDnsWorld.BogusDomain);
        Assert.Equal(MxDnssec.Bogus, plan.Mx);
        Assert.False(plan.Failure!.Permanent);
    }

    [Fact]
    public async Task Nonexistent_domain_fails_permanently()
    {
        Assert.True((await PlanAsync(StandardDnsWorld.SecureNxDomain)).Failure!.Permanent);
    }

    [Fact]
    public async Task Dane_only_defers_for_an_insecure_mx()
    {
        var plan = await PlanAsync("crossmx.insecure.example", PolicyLevel.DaneOnly);
        Assert.Equal(PeerMode.Skip, plan.Peers[0].Mode);
        Assert.NotNull(plan.Failure);
    }
}
