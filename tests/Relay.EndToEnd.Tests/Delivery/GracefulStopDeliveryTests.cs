using System.Diagnostics;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// SIGTERM (how an init system stops the service) in the middle of a session with a slow peer: the process drains —
/// the session it is in finishes, each transaction recorded — and exits 0, with nothing duplicated and nothing lost.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class GracefulStopDeliveryTests(ITestOutputHelper output)
{
    private const int Count = 6;

    [Fact]
    public async Task Sigterm_mid_session_drains_the_claimed_mail_exactly_once_and_exits_0()
    {
        await using var scenario = await SlowPeerScenario.StartAsync("drain", TimeSpan.FromMilliseconds(400), Count);
        var (peer, queue, env) = (scenario.Peer, scenario.Queue, scenario.Env);
        await using var relay = RelayProcess.Start(env, "serve", "--roles", "delivery");
        await relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        while (peer.Messages.Count < 1 && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20);
        Assert.True(peer.Messages.Count >= 1, "the process never started delivering");
        var pendingAtStop = await scenario.UndeliveredAsync();
        relay.Terminate();
        var exitCode = await relay.WaitForExitAsync(TimeSpan.FromSeconds(40));
        output.WriteLine($"{pendingAtStop} recipients pending at SIGTERM; exit {exitCode}\n{relay.Output}");

        Assert.True(pendingAtStop > 0, "everything was delivered before the stop: the scenario tested nothing");
        Assert.Equal(0, exitCode);
        var markers = scenario.Delivered;
        Assert.Equal(markers.Distinct().Count(), markers.Count);
        // What the drain delivered is recorded as delivered; anything it did not reach is still queued for the next start.
        Assert.Equal(markers.Count, await queue.ScalarAsync("select count(*) from recipients where state = 'delivered'"));
        Assert.Equal(0, await queue.ScalarAsync("select count(*) from recipients where state not in ('delivered', 'queued')"));
    }
}
