using System.Collections.Concurrent;
using Relay.Policy.MtaSts;

namespace Relay.Policy.Tests.MtaSts;

/// <summary>
/// Discovery → cache → fetch against the real DNS world and HTTPS server. The cache here is an in-memory one (the
/// database's is tested in Relay.Delivery.Tests against PostgreSQL): the rules under test are the service's.
/// </summary>
public sealed class StsPolicyServiceTests(StsWorldFixture world) : IClassFixture<StsWorldFixture>
{
    private sealed class MemoryCache : IStsPolicyCache
    {
        public ConcurrentDictionary<string, CachedStsPolicy> Rows { get; } = new();
        public Task<CachedStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken) => Task.FromResult(Rows.GetValueOrDefault(domain));
        public Task SaveAsync(CachedStsPolicy policy, CancellationToken cancellationToken)
        {
            Rows[policy.Domain] = policy;
            return Task.CompletedTask;
        }
    }

    private readonly MemoryCache cache = new();

    private StsPolicyService Service(TimeProvider? time = null, TimeSpan? fetchTimeout = null) => new(new StsDiscoveryLookup(world.Resolver),
        new StsPolicyFetcher(world.Resolver, new StsFetchOptions(world.Port, world.TrustAnchors) { Timeout = fetchTimeout ?? TimeSpan.FromSeconds(10) }),
        cache, time ?? TimeProvider.System);

    /// <summary>A clock the test moves by hand, for the in-memory failure hold.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static CancellationToken Deadline => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static StsPolicy Old => new(StsMode.Enforce, ["old.example"], TimeSpan.FromDays(7));

    [Fact]
    public async Task A_fetched_policy_is_cached_and_the_same_id_is_not_fetched_again()
    {
        var domain = StsWorldFixture.Domain("testing");
        var before = world.Requests("testing");

        var first = await Service().LookupAsync(domain, Deadline);
        var second = await Service().LookupAsync(domain, Deadline);

        Assert.Equal(StsMode.Testing, first.Policy?.Mode);
        Assert.Equal("idtesting1", first.Id);
        Assert.Equal(first.Policy, second.Policy);
        Assert.Contains("cached", second.Source);
        Assert.Equal(before + 1, world.Requests("testing"));
        Assert.Equal("idtesting1", cache.Rows[domain].Id);
    }

    [Fact]
    public async Task A_new_id_in_dns_refetches_even_while_the_cached_policy_is_fresh()
    {
        var domain = StsWorldFixture.Domain("changing");
        cache.Rows[domain] = new CachedStsPolicy(domain, "previous", Old, DateTimeOffset.UtcNow);

        var input = await Service().LookupAsync(domain, Deadline);

        Assert.Equal(["mx.good.sts.example", "*.backup.sts.example"], input.Policy!.Mx);
        Assert.Equal("idchanging1", cache.Rows[domain].Id);
    }

    [Fact]
    public async Task A_failed_fetch_keeps_the_unexpired_cached_policy_in_force_and_reports_the_failure()
    {
        var domain = StsWorldFixture.Domain("notfound");
        cache.Rows[domain] = new CachedStsPolicy(domain, "previous", Old, DateTimeOffset.UtcNow.AddDays(-1));

        var input = await Service().LookupAsync(domain, Deadline);

        Assert.Equal(Old, input.Policy);
        Assert.Equal(TlsRptResult.StsPolicyFetchError, input.FetchFailure?.ResultType);
        Assert.Equal("previous", cache.Rows[domain].Id);
    }

    [Fact]
    public async Task An_expired_cached_policy_with_a_failed_fetch_is_no_policy_with_the_failure()
    {
        var domain = StsWorldFixture.Domain("invalid");
        cache.Rows[domain] = new CachedStsPolicy(domain, "previous", Old, DateTimeOffset.UtcNow.AddDays(-8));

        var input = await Service().LookupAsync(domain, Deadline);

        Assert.Null(input.Policy);
        Assert.Equal(TlsRptResult.StsPolicyInvalid, input.FetchFailure?.ResultType);
    }

    [Fact]
    public async Task A_vanished_txt_record_does_not_withdraw_a_fresh_cached_policy()
    {
        var domain = StsWorldFixture.Domain("absent");
        cache.Rows[domain] = new CachedStsPolicy(domain, "previous", Old, DateTimeOffset.UtcNow);

        var input = await Service().LookupAsync(domain, Deadline);

        Assert.Equal(Old, input.Policy);
        Assert.Contains("no v=STSv1", input.Source);
    }

    [Fact]
    public async Task Planning_with_the_policy_in_force_uses_only_the_listed_mx_with_pkix()
    {
        var hop = Relay.Policy.Planning.NextHop.ForDomain(StsWorldFixture.Domain("good"));
        var table = new Relay.Policy.Planning.PolicyTable([], PolicyLevel.Dane);
        var dnsPlan = await new Relay.Policy.Planning.DeliveryPlanService(world.Resolver, table).PlanAsync(hop, Deadline);

        var plan = await StsPlanStep.ApplyAsync(dnsPlan, Service(), Deadline);

        Assert.Equal("idgood1", plan.Sts?.Id);
        var listed = Assert.Single(plan.UsablePeers);
        Assert.Equal(("mx.good.sts.example", Relay.Policy.Planning.PeerMode.Pkix, StsMode.Enforce), (listed.Host, listed.Mode, listed.Sts));
        Assert.Contains(plan.Peers, p => p.Host == "rogue.sts.example" && p.Mode == Relay.Policy.Planning.PeerMode.Skip);
    }

    [Fact]
    public async Task A_none_policy_replaces_the_cached_one()
    {
        var domain = StsWorldFixture.Domain("none");
        cache.Rows[domain] = new CachedStsPolicy(domain, "previous", Old, DateTimeOffset.UtcNow);

        var input = await Service().LookupAsync(domain, Deadline);

        Assert.Equal(StsMode.None, input.Policy?.Mode);
        Assert.Equal(StsMode.None, cache.Rows[domain].Policy.Mode);
    }

    [Fact]
    public async Task A_failed_fetch_is_remembered_for_its_domain_and_id_until_the_hold_runs_out()
    {
        var domain = StsWorldFixture.Domain("notfound");
        cache.Rows[domain] = new CachedStsPolicy(domain, "previous", Old, DateTimeOffset.UtcNow.AddDays(-1));
        var clock = new ManualClock();
        var service = Service(clock);
        var before = world.Requests("notfound");

        var first = await service.LookupAsync(domain, Deadline);
        clock.Now += service.FailureHold - TimeSpan.FromSeconds(1);
        var held = await service.LookupAsync(domain, Deadline);

        Assert.Equal(before + 1, world.Requests("notfound"));
        Assert.Equal(first.FetchFailure, held.FetchFailure);
        Assert.Equal(TlsRptResult.StsPolicyFetchError, held.FetchFailure?.ResultType);
        Assert.Equal(Old, held.Policy); // the unexpired cached policy stays in force meanwhile
        Assert.Contains("failure remembered until", held.Source);

        clock.Now += TimeSpan.FromSeconds(2);
        var after = await service.LookupAsync(domain, Deadline);
        Assert.Equal(before + 2, world.Requests("notfound"));
        Assert.DoesNotContain("remembered", after.Source);
    }

    [Fact]
    public async Task A_policy_server_that_times_out_costs_one_fetch_not_one_per_planning()
    {
        var domain = StsWorldFixture.Domain("slow");
        var service = Service(fetchTimeout: TimeSpan.FromSeconds(1));
        var before = world.Requests("slow");

        var first = await service.LookupAsync(domain, Deadline);
        var second = await service.LookupAsync(domain, Deadline);

        Assert.Contains("did not answer within", first.Source);
        Assert.Null(second.Policy);
        Assert.Equal(TlsRptResult.StsPolicyFetchError, second.FetchFailure?.ResultType);
        Assert.Equal(before + 1, world.Requests("slow"));
    }
}
