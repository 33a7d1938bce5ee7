using System.Diagnostics;
using Npgsql;
using Relay.TestKit.Postgres;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests;

/// <summary>
/// Issue 13 §7 (the brief's 5): PostgreSQL refusing writes in the middle of the inbound transaction. Two ways, both
/// on the real server: a trigger on the recipients insert that fails with SQLSTATE 53100 `disk_full` — the error
/// PostgreSQL raises when its volume is full, raised by a trigger because no small full file system can be mounted
/// here; the message row of the same statement is written first, so the failure is mid-transaction — and the
/// database switched to read-only with its sessions terminated (a failover to a standby, an operator's emergency
/// brake). Clients get 4xx and never 250, the relay keeps running, no half message is left, and once writes are
/// allowed again the same process acknowledges within seconds.
/// </summary>
public sealed class DatabaseRefusesWritesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Refusing = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task Writes_refused_mid_transaction_give_4xx_never_250_and_the_relay_serves_again_when_writes_return()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("resil_full");
        await using var peer = CountingPeer.Start("peer.full.test", TimeSpan.Zero);
        var relay = await RelayUnderTest.CreateAsync(database, "full.test", peer.Route);
        // Every refusal is a session error (as in Postfix): from the 10th each reply would wait a second, and the 20th
        // would end the session with 421, so a 3 s window would see few storage replies. This scenario is about storage,
        // so the error limits are out of its way (they have their own tests in Relay.Inbound.Tests).
        relay.Env["Relay__Smtp__ErrorSleep"] = "0s";
        relay.Env["Relay__Smtp__ErrorLimit"] = "1000";
        var name = new NpgsqlConnectionStringBuilder(database).Database!;
        await using var process = await relay.StartAsync("smtp");
        await using var load = MessageLoad.Start(relay.Port, relay.Domain, clients: 2, pause: TimeSpan.FromMilliseconds(40));
        await load.WaitForMoreAcknowledgedAsync(5, TimeSpan.FromSeconds(30));

        var refusing = new List<(DateTimeOffset From, DateTimeOffset To)>();
        var windows = new List<(string Fault, DateTimeOffset From, DateTimeOffset To)>();
        var recoveries = new List<TimeSpan>();
        var faults = new (string Name, string Refuse, string Allow)[]
        {
            ("disk-full", """
                create function resil_disk_full() returns trigger language plpgsql as $$
                begin raise exception 'could not extend file: No space left on device' using errcode = 'disk_full'; end $$;
                create trigger resil_disk_full before insert on recipients for each row execute function resil_disk_full();
                """, "drop trigger resil_disk_full on recipients; drop function resil_disk_full();"),
            // Two commands, not one: statements sent together run in one implicit transaction, so sessions terminated
            // by the second would reconnect before the ALTER committed and keep writing (the soak caught that race).
            ("read-only", $"""alter database "{name}" set default_transaction_read_only = on""", $"""alter database "{name}" reset default_transaction_read_only"""),
        };
        for (var round = 0; round < Soak.Times(1); round++)
        foreach (var (fault, refuse, allow) in faults)
        {
            await ExecuteAsync(fault == "read-only" ? cluster.AdminConnectionString : database, refuse);
            if (fault == "read-only") await TerminateSessionsAsync(cluster.AdminConnectionString, name);
            var from = DateTimeOffset.UtcNow;
            await Task.Delay(Refusing);
            refusing.Add((from + Margin, DateTimeOffset.UtcNow));
            windows.Add((fault, from + Margin, DateTimeOffset.UtcNow));
            // Run as a superuser elsewhere: the relay's own database refuses this too while read-only.
            await ExecuteAsync(fault == "read-only" ? cluster.AdminConnectionString : database, allow);
            if (fault == "read-only") await TerminateSessionsAsync(cluster.AdminConnectionString, name);
            var clock = Stopwatch.StartNew();
            await load.WaitForMoreAcknowledgedAsync(1, TimeSpan.FromSeconds(30));
            recoveries.Add(clock.Elapsed);
            Assert.False(process.HasExited, $"the relay exited when writes were refused ({fault}):\n{MessageLoad.Tail(process.Output)}");
        }
        await load.StopAsync();

        var queued = await relay.QueuedMarkersAsync();
        var halfMessages = await relay.ScalarAsync("select count(*) from messages m where not exists (select 1 from recipients r where r.message_id = m.id)");
        var refusedWhileRefusing = load.Replies.Count(r => r.Code != "250" && refusing.Any(w => r.At >= w.From && r.At <= w.To));
        var acknowledgedWhileRefusing = load.Replies.Count(r => r.Code == "250" && refusing.Any(w => r.At >= w.From && r.At <= w.To));
        new Figures("database-refuses-writes", load.Sent, load.Acknowledged.Count, 0, 0, load.Acknowledged.Keys.Count(m => !queued.Contains(m)), recoveries.Max(),
            $"faults=disk-full,read-only refused-while-refusing={refusedWhileRefusing} 452-while-refusing={load.Replies.Count(r => r.Code == "452" && refusing.Any(w => r.At >= w.From && r.At <= w.To))} half-messages={halfMessages} " +
            "delivered-is=not-run(smtp-role-only) lost-is=acknowledged-not-queued recovery-is=max(writes allowed→first 250)").Print(output);
        output.WriteLine(load.Describe());

        Assert.Equal(0, acknowledgedWhileRefusing);
        // RFC 5321 §4.2.3 / RFC 3463: a full disk is 452 4.3.1 "insufficient system storage", never the generic 451; a
        // read-only database is too, except for the transactions its terminated sessions cut (451: outcome unknown).
        string[] CodesIn(string fault) => load.Replies.Where(r => r.Code != "250" && windows.Any(w => w.Fault == fault && r.At >= w.From && r.At <= w.To))
            .Select(r => r.Code).ToArray();
        Assert.All(CodesIn("disk-full"), c => Assert.Equal("452", c));
        Assert.Contains("452", CodesIn("read-only"));
        Assert.True(refusedWhileRefusing >= refusing.Count, $"too few refusals while writes were refused: {load.Describe()}");
        Assert.True(load.Refusals.Keys.All(c => c is "451" or "452" or "421" or "dropped"), $"unexpected replies: {load.Describe()}");
        Assert.All(load.Acknowledged.Keys, m => Assert.Contains(m, queued));
        Assert.Equal(0, halfMessages);
    }

    /// <summary>Ends the database's sessions once a setting has committed, so the relay's new sessions start with it.</summary>
    private static Task TerminateSessionsAsync(string adminConnectionString, string database) =>
        ExecuteAsync(adminConnectionString, $"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{database}' and pid <> pg_backend_pid()");

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(RelayUnderTest.Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
