using Npgsql;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.Db.Tests;

/// <summary>
/// Retention deletes only what is finished and older than the retention: a message whose recipients are all delivered or
/// bounced (and were for the retention), old attempt records and old inbound session rows; never a message with a
/// recipient still waiting, however old, and never anything recent.
/// </summary>
public class RetentionTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private RelayDatabase Db => fixture.Database;
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);

    [Fact]
    public async Task A_sweep_deletes_finished_messages_older_than_the_retention_and_keeps_every_other()
    {
        var oldDelivered = await EnqueueAsync("old-delivered.example", 2, ageDays: 9, states: ["delivered", "bounced"], finishedDaysAgo: 8);
        var oldWaiting = await EnqueueAsync("old-waiting.example", 2, ageDays: 30, states: ["delivered", "deferred"], finishedDaysAgo: 20);
        var oldHeld = await EnqueueAsync("old-held.example", 1, ageDays: 30, states: ["held"], finishedDaysAgo: 20);
        var recentlyFinished = await EnqueueAsync("recently-finished.example", 1, ageDays: 9, states: ["delivered"], finishedDaysAgo: 1);
        var fresh = await EnqueueAsync("fresh.example", 1, ageDays: 0, states: ["delivered"], finishedDaysAgo: 0);
        var oldAttempt = await AttemptAsync("old-delivered.example", startedDaysAgo: 8);
        var recentAttempt = await AttemptAsync("fresh.example", startedDaysAgo: 0);
        await ExecuteAsync("insert into inbound_sessions (listener, client_address, transport, started_at) values " +
                           "('retention-old', '127.0.0.9', 'cleartext', now() - interval '8 days'), ('retention-new', '127.0.0.9', 'cleartext', now())");

        var swept = await Db.Retention.SweepAsync(Week, 1000, CancellationToken.None);

        Assert.True(swept.Messages >= 1 && swept.Attempts >= 1 && swept.InboundSessions >= 1, swept.ToString());
        Assert.False(await ExistsAsync($"select 1 from messages where id = {oldDelivered}"));
        Assert.False(await ExistsAsync($"select 1 from recipients where message_id = {oldDelivered}"));
        Assert.False(await ExistsAsync($"select 1 from delivery_attempts where id = {oldAttempt}"));
        Assert.False(await ExistsAsync("select 1 from inbound_sessions where listener = 'retention-old'"));
        foreach (var kept in new[] { oldWaiting, oldHeld, recentlyFinished, fresh })
            Assert.True(await ExistsAsync($"select 1 from messages where id = {kept}"), $"message {kept} was deleted");
        Assert.True(await ExistsAsync($"select 1 from delivery_attempts where id = {recentAttempt}"));
        Assert.True(await ExistsAsync("select 1 from inbound_sessions where listener = 'retention-new'"));

        // Nothing left to delete: the next sweep deletes nothing of ours.
        await Db.Retention.SweepAsync(Week, 1000, CancellationToken.None);
        Assert.True(await ExistsAsync($"select 1 from messages where id = {oldWaiting}"));
    }

    [Fact]
    public async Task A_backlog_goes_in_steps_of_the_limit()
    {
        for (var i = 0; i < 5; i++)
            await EnqueueAsync("backlog.example", 1, ageDays: 10, states: ["delivered"], finishedDaysAgo: 10);

        var first = await Db.Retention.SweepAsync(Week, 2, CancellationToken.None);
        Assert.Equal(2, first.Messages);
        var left = await CountAsync("select count(*) from messages m join recipients r on r.message_id = m.id where r.next_hop = 'backlog.example'");
        Assert.InRange(left, 0, 3);
        for (var i = 0; i < 5 && await CountAsync("select count(*) from recipients where next_hop = 'backlog.example'") > 0; i++)
            await Db.Retention.SweepAsync(Week, 2, CancellationToken.None);
        Assert.Equal(0, await CountAsync("select count(*) from recipients where next_hop = 'backlog.example'"));
    }

    /// <summary>Enqueues a message, then backdates it and sets its recipients' states as if its deliveries had ended then.</summary>
    private async Task<long> EnqueueAsync(string domain, int recipients, int ageDays, string[] states, int finishedDaysAgo)
    {
        var queueId = await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(recipients, domain), CancellationToken.None);
        var id = await CountAsync($"select id from messages where queue_id = '{queueId}'");
        await ExecuteAsync($"update messages set received_at = now() - interval '{ageDays} days' where id = {id}");
        var ids = await ListAsync($"select id from recipients where message_id = {id} order by id");
        for (var i = 0; i < ids.Count; i++)
            await ExecuteAsync($"update recipients set state = '{states[i]}', updated_at = now() - interval '{finishedDaysAgo} days' where id = {ids[i]}");
        return id;
    }

    private async Task<long> AttemptAsync(string nextHop, int startedDaysAgo) =>
        await Db.Attempts.RecordAsync(new AttemptRecord(nextHop, null, null, null, DateTimeOffset.UtcNow.AddDays(-startedDaysAgo),
            TimeSpan.FromMilliseconds(1), "dns", null, "may", null, "none", "no MX"), [], CancellationToken.None);

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<bool> ExistsAsync(string sql) => (await ListAsync(sql)).Count > 0;

    private async Task<long> CountAsync(string sql) => (await ListAsync(sql)).Single();

    private async Task<List<long>> ListAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<long>();
        while (await reader.ReadAsync()) values.Add(reader.IsDBNull(0) ? 0 : Convert.ToInt64(reader.GetValue(0)));
        return values;
    }
}
