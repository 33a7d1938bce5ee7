using System.Diagnostics;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// kill -9 of a delivery process in the middle of a session with a slow peer: nothing is touched while its lease
/// lasts, a restarted process delivers everything after the lease, and nothing the queue had recorded as delivered
/// is sent again. What may arrive twice is the transaction in flight (the unavoidable RFC 1047 window) and the
/// transactions whose 250 had come back but whose record had not committed yet (the session's RecordWindow): the
/// test reads which those were at the kill, so a duplicate of anything else fails it.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class KillNineDeliveryTests(ITestOutputHelper output)
{
    // The successor's whole session (at most Count × SlowDot) stays well inside one lease: a session that outlives its
    // lease is a different scenario (LeaseOverrunDeliveryTests).
    private const int Count = 8;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SlowDot = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task Recipients_of_a_killed_delivery_process_are_delivered_after_the_lease_and_only_unrecorded_transactions_twice()
    {
        // A slow peer: every end-of-data reply takes a while, so a session is always mid-transaction when the kill lands.
        await using var scenario = await SlowPeerScenario.StartAsync("kill", SlowDot, Count, ("Relay__Delivery__Lease", $"{Lease.TotalSeconds}s"));
        var (peer, queue, env) = (scenario.Peer, scenario.Queue, scenario.Env);

        var victim = RelayProcess.Start(env, "serve", "--roles", "delivery");
        int receivedAtKill;
        IReadOnlySet<string> recordedAtKill;
        DateTimeOffset leaseEnds;
        try
        {
            await victim.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
            await WaitUntilAsync(() => peer.Messages.Count >= 2, TimeSpan.FromSeconds(20), "the first process never delivered two messages");
            await Task.Delay(SlowDot / 2); // inside the next transaction's end-of-data wait
            leaseEnds = DateTimeOffset.FromUnixTimeMilliseconds(await queue.ScalarAsync(
                "select (extract(epoch from max(lease_expires_at)) * 1000)::bigint from recipients where state <> 'delivered'"));
            Process.Start("kill", ["-KILL", victim.Id.ToString()])!.WaitForExit();
            await victim.WaitForExitAsync(TimeSpan.FromSeconds(10));
            receivedAtKill = peer.Messages.Count;
            recordedAtKill = await scenario.RecordedDeliveredAsync();
        }
        finally
        {
            await victim.DisposeAsync();
        }
        var undelivered = await scenario.UndeliveredAsync();
        output.WriteLine($"killed with {receivedAtKill} received at the peer, {recordedAtKill.Count} recorded as delivered, " +
                         $"{undelivered} recipients not yet delivered; lease ends {leaseEnds:O}");
        Assert.True(recordedAtKill.IsSubsetOf(scenario.Delivered), "a recipient was recorded as delivered that the peer never received");
        Assert.True(undelivered > 0, "the kill came too late to test anything");
        Assert.True(leaseEnds > DateTimeOffset.UtcNow, "the lease had expired before the restart: the scenario did not test leases");

        await using var successor = RelayProcess.Start(env, "serve", "--roles", "delivery");
        await successor.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
        // While the dead process's lease lasts, nobody may deliver its recipients; only the transaction the kill
        // interrupted may still complete at the peer (the peer finishes its slow reply into a closed socket).
        while (DateTimeOffset.UtcNow < leaseEnds - TimeSpan.FromMilliseconds(300))
        {
            Assert.True(peer.Messages.Count <= receivedAtKill + 1, $"{peer.Messages.Count - receivedAtKill} messages delivered while the lease still held");
            await Task.Delay(100);
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(40) && await scenario.UndeliveredAsync() > 0)
            await Task.Delay(200);
        Assert.True(await scenario.UndeliveredAsync() == 0,
            $"not everything was delivered after the lease:\n{successor.Output}");

        var markers = scenario.Delivered;
        Assert.Equal(scenario.AllMarkers.Order(), markers.Distinct().Order());
        var twice = markers.GroupBy(m => m).Where(g => g.Count() > 1).ToList();
        output.WriteLine($"duplicated at the peer: {string.Join(", ", twice.Select(g => $"{g.Key}×{g.Count()}"))}");
        Assert.True(twice.All(g => g.Count() == 2), $"a message arrived more than twice: {string.Join(", ", twice.Select(g => $"{g.Key}×{g.Count()}"))}");
        var resentAfterRecord = twice.Select(g => g.Key).Where(recordedAtKill.Contains).ToList();
        Assert.True(resentAfterRecord.Count == 0, $"sent again although recorded as delivered before the kill: {string.Join(", ", resentAfterRecord)}");
        // Received but not yet recorded at the kill, plus the one transaction the kill interrupted.
        var unrecordedAtKill = receivedAtKill - recordedAtKill.Count;
        Assert.True(twice.Count <= unrecordedAtKill + 1,
            $"{twice.Count} duplicated, more than the {unrecordedAtKill} unrecorded at the kill and the one in flight: {string.Join(", ", twice.Select(g => g.Key))}");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException(failure);
            await Task.Delay(20);
        }
    }
}
