using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// One healthy process whose session to a slow peer lasts longer than its lease: the lease is a crash-recovery device,
/// so a living process must not deliver its own in-flight recipients a second time when the lease runs out.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class LeaseOverrunDeliveryTests(ITestOutputHelper output)
{
    private const int Count = 8;

    // The lease is renewed while the session runs (LeaseKeeper), so it never lapses under a living process.
    [Fact]
    public async Task A_session_that_outlives_its_lease_still_delivers_each_message_once()
    {
        // The batch's session takes about Count × 0.5 s = 4 s, twice the lease.
        await using var scenario = await SlowPeerScenario.StartAsync("overrun", TimeSpan.FromMilliseconds(500), Count, ("Relay__Delivery__Lease", "2s"));
        var (queue, env) = (scenario.Queue, scenario.Env);
        await using var relay = RelayProcess.Start(env, "serve", "--roles", "delivery");
        await relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && await scenario.UndeliveredAsync() > 0)
            await Task.Delay(200);
        await Task.Delay(TimeSpan.FromSeconds(1)); // a second session still running would add its copies now
        output.WriteLine(relay.Output);

        Assert.Equal(0, await scenario.UndeliveredAsync());
        var markers = scenario.Delivered;
        var twice = markers.GroupBy(m => m).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"delivered twice by one living process: {string.Join(", ", twice)}");
        Assert.Equal(Count, markers.Count);
    }
}
