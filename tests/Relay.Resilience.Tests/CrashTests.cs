using System.Diagnostics;
using Relay.EndToEnd.Tests;
using Relay.TestKit.Postgres;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests;

/// <summary>
/// Issue 13 §1: clients send without pause to a hosted domain routed to a counting peer while one `relay serve`
/// (smtp and delivery in one process) is killed with SIGKILL at random moments and restarted. Every message a
/// client saw `250` for reaches the peer; the only duplicates are copies the peer accepted that the queue had not
/// yet recorded when a kill fell (at most the sessions in flight, per kill), and none arise outside the kills.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    private static readonly TimeSpan DotDelay = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task Every_acknowledged_message_arrives_after_repeated_kill_9_with_duplicates_only_from_transactions_in_flight_at_the_kills()
    {
        var kills = Soak.Times(20);
        var cluster = await PostgresCluster.SharedAsync();
        await using var peer = CountingPeer.Start("peer.crash.test", DotDelay);
        var relay = await RelayUnderTest.CreateAsync(await cluster.CreateDatabaseAsync("resil_crash"), "crash.test", peer.Route);
        var random = new Random(1313);
        var restarts = new List<TimeSpan>();
        var inFlightAtKills = new List<long>();
        long unrecordedBefore = 0;

        await using (var load = MessageLoad.Start(relay.Port, relay.Domain, clients: 3, pause: TimeSpan.FromMilliseconds(60)))
        {
            for (var kill = 0; kill < kills; kill++)
            {
                var clock = Stopwatch.StartNew();
                var process = await relay.StartAsync();
                try
                {
                    // Serving again is measured by the clients: the first 250 after the start.
                    await load.WaitForMoreAcknowledgedAsync(1, TimeSpan.FromSeconds(30));
                    restarts.Add(clock.Elapsed);
                    await Task.Delay(random.Next(50, 1200)); // the kill lands in acceptance, delivery or both
                    Process.Start("kill", ["-KILL", process.Id.ToString()])!.WaitForExit();
                    await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
                }
                finally
                {
                    await process.DisposeAsync();
                }
                // The peer finishes a transaction whose dot it had read (its reply goes to a closed socket).
                await Task.Delay(DotDelay * 4);
                await relay.WaitForKilledBackendsAsync();
                // Copies at the peer that the queue does not know it delivered: only ever grows, by what this kill left in flight.
                var unrecorded = peer.Copies(load.Prefix).Values.Sum() - await relay.DeliveredAsync();
                inFlightAtKills.Add(unrecorded - unrecordedBefore);
                unrecordedBefore = unrecorded;
            }

            var final = await relay.StartAsync();
            await using (final)
            {
                await load.WaitForMoreAcknowledgedAsync(1, TimeSpan.FromSeconds(30));
                await load.StopAsync();
                var drain = Stopwatch.StartNew();
                while (await relay.NotDeliveredAsync() > 0 && drain.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(100);
                var copies = peer.Copies(load.Prefix);
                var lost = load.Acknowledged.Keys.Where(m => !copies.ContainsKey(m)).ToList();
                var duplicates = copies.Values.Sum(c => c - 1);
                new Figures("crash", load.Sent, load.Acknowledged.Count, copies.Count, duplicates, lost.Count, restarts.Max(),
                    $"kills={kills} in-flight-at-kills={inFlightAtKills.Sum()} max-in-flight-per-kill={inFlightAtKills.Max()} " +
                    $"drain={drain.Elapsed.TotalSeconds:0.0}s recovery-is=max(start→first 250) mean={restarts.Average(t => t.TotalSeconds):0.00}s").Print(output);
                output.WriteLine(load.Describe());

                Assert.True(load.Acknowledged.Count >= kills, $"only {load.Acknowledged.Count} messages acknowledged over {kills} kills: too little load to prove anything");
                Assert.True(lost.Count == 0, $"{lost.Count} acknowledged messages never arrived: {string.Join(", ", lost.Take(10))}\n{MessageLoad.Tail(final.Output)}");
                Assert.Equal(0, await relay.NotDeliveredAsync());
                Assert.True(duplicates <= inFlightAtKills.Sum(),
                    $"{duplicates} duplicates but only {inFlightAtKills.Sum()} copies were unrecorded at the kills: a duplicate arose outside a kill");
                Assert.All(inFlightAtKills, n => Assert.InRange(n, 0, RelayUnderTest.MaxUnrecordedPerFault));
                Assert.All(copies.Keys, m => Assert.StartsWith(load.Prefix, m));
            }
        }
    }
}
