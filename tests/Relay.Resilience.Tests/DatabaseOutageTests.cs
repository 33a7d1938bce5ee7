using System.Diagnostics;
using Npgsql;
using Relay.TestKit.Postgres;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests;

/// <summary>
/// Issue 13 §2: PostgreSQL restarted and then away for a while (an immediate shutdown, as a crash) under continuous
/// load, with a cluster of this test's own. While it is down clients get 4xx, never 250; the same relay process (no
/// restart) serves again within seconds of the server's return, delivery resumes, and nothing acknowledged is lost.
/// </summary>
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Clients_get_4xx_while_postgresql_is_down_and_the_same_process_recovers_without_losing_a_message()
    {
        await using var cluster = await PrivatePostgresCluster.StartAsync();
        var database = await CreateDatabaseAsync(cluster);
        await using var peer = CountingPeer.Start("peer.outage.test", TimeSpan.FromMilliseconds(5));
        var relay = await RelayUnderTest.CreateAsync(database, "outage.test", peer.Route);
        await using var process = await relay.StartAsync();
        await using var load = MessageLoad.Start(relay.Port, relay.Domain, clients: 3, pause: TimeSpan.FromMilliseconds(40));
        await load.WaitForMoreAcknowledgedAsync(20, TimeSpan.FromSeconds(30));

        var recoveries = new List<TimeSpan>();
        var downWindows = new List<(DateTimeOffset From, DateTimeOffset To)>();
        var cycles = Soak.Times(2);
        for (var cycle = 0; cycle < cycles; cycle++)
        {
            // Even cycles: a restart (down only as long as a restart takes); odd ones: an outage of a few seconds.
            await cluster.StopServerAsync();
            var down = DateTimeOffset.UtcNow;
            await Task.Delay(cycle % 2 == 0 ? TimeSpan.FromMilliseconds(300) : Outage);
            var up = DateTimeOffset.UtcNow;
            await cluster.StartServerAsync();
            var started = Stopwatch.StartNew();
            downWindows.Add((down, up));
            await load.WaitForMoreAcknowledgedAsync(1, TimeSpan.FromSeconds(60));
            recoveries.Add(started.Elapsed);
            Assert.False(process.HasExited, $"the relay exited during the outage:\n{MessageLoad.Tail(process.Output)}");
            await load.WaitForMoreAcknowledgedAsync(10, TimeSpan.FromSeconds(30));
        }

        await load.StopAsync();
        var drain = Stopwatch.StartNew();
        while (await relay.NotDeliveredAsync() > 0 && drain.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(100);
        var copies = peer.Copies(load.Prefix);
        var queued = await relay.QueuedMarkersAsync();
        var lost = load.Acknowledged.Keys.Where(m => !copies.ContainsKey(m)).ToList();
        var refusedWhileDown = load.Replies.Count(r => r.Code != "250" && downWindows.Any(w => r.At >= w.From && r.At <= w.To));
        var acknowledgedWhileDown = load.Replies.Where(r => r.Code == "250" && downWindows.Any(w => r.At >= w.From && r.At <= w.To)).ToList();
        new Figures("postgresql-outage", load.Sent, load.Acknowledged.Count, copies.Count, copies.Values.Sum(c => c - 1), lost.Count, recoveries.Max(),
            $"cycles={cycles} outage={Outage.TotalSeconds:0}s refused-while-down={refusedWhileDown} recovery-is=max(server up→first 250) " +
            $"drain={drain.Elapsed.TotalSeconds:0.0}s").Print(output);
        output.WriteLine(load.Describe());

        Assert.Empty(acknowledgedWhileDown);
        Assert.True(refusedWhileDown > 0, "no client was refused while the server was down: the outage was not exercised");
        Assert.True(load.Refusals.Keys.All(c => c is "451" or "421" or "dropped" or "452"), $"unexpected replies: {load.Describe()}");
        Assert.All(load.Acknowledged.Keys, m => Assert.Contains(m, queued)); // a 250 only for what was committed
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged messages never arrived: {string.Join(", ", lost.Take(10))}\n{MessageLoad.Tail(process.Output)}");
        Assert.Equal(0, await relay.NotDeliveredAsync());
        Assert.All(recoveries, r => Assert.True(r < RecoveryLimit, $"recovery took {r} (limit {RecoveryLimit})"));
        // A delivery whose record the outage interrupted is sent again: at most the records in flight, per stop.
        Assert.InRange(copies.Values.Sum(c => c - 1), 0, cycles * RelayUnderTest.MaxUnrecordedPerFault);
    }

    private static async Task<string> CreateDatabaseAsync(PrivatePostgresCluster cluster)
    {
        await using (var connection = new NpgsqlConnection(cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("create database relay_outage", connection);
            await command.ExecuteNonQueryAsync();
        }
        // The relay's own pooled connections: what a broken server leaves behind in a pool is part of the test.
        return new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = "relay_outage", Pooling = true }.ConnectionString;
    }
}
