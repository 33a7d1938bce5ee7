using Relay.Dns;
using Relay.Policy.Planning;

namespace Relay.Policy.Tests.Planning;

public class DeliveryPlanServiceTests
{
    /// <summary>A resolver that never answers: what a black-holed DNS server looks like to the planner.</summary>
    private sealed class SilentResolver : IDnsResolver
    {
        public async Task<DnsResult> QueryAsync(string name, DnsType type, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    [Fact]
    public async Task Planning_stops_at_the_callers_deadline()
    {
        var service = new DeliveryPlanService(new SilentResolver(), new PolicyTable([]));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => service.PlanAsync(NextHop.ForDomain("example.com"), cts.Token));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Explicit_policy_from_the_table_reaches_the_plan()
    {
        var service = new DeliveryPlanService(new SilentResolver(), new PolicyTable([DestinationPolicy.Create("example.org", PolicyLevel.Encrypt)]));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        // A literal route needs no DNS at all, so the silent resolver is never asked.
        var plan = await service.PlanAsync(NextHop.ForRoute("example.org", "[192.0.2.7]:25"), cts.Token);
        Assert.Equal(PolicyLevel.Encrypt, plan.Policy.Level);
        Assert.Equal(PeerMode.Encrypt, Assert.Single(plan.Peers).Mode);
    }
}
