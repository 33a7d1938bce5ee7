using System.Net;
using Npgsql;
using Relay.Db;
using Relay.TestKit.Postgres;
using Xunit.Abstractions;

namespace Relay.Db.Tests;

/// <summary>
/// A COMMIT whose outcome the client never learns (the connection broke after it was sent) must not turn into a
/// refusal of what is stored, nor into a second copy: the group commit asks the database which messages are there,
/// acknowledges those and retries only the others. Against the real server, through <see cref="CommitDroppingProxy"/>
/// (the only way to lose exactly that reply), with the messages of a stalled group piled into one batch.
/// </summary>
public class LostCommitReplyTests(DatabaseFixture fixture, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    [Theory]
    [InlineData(CommitDroppingProxy.Mode.DropAfterForwarding)]
    [InlineData(CommitDroppingProxy.Mode.DropBeforeForwarding)]
    public async Task Every_message_of_a_batch_whose_commit_reply_was_lost_is_acknowledged_and_stored_once(CommitDroppingProxy.Mode mode)
    {
        var direct = new NpgsqlConnectionStringBuilder(fixture.ConnectionString);
        await using var proxy = new CommitDroppingProxy(new IPEndPoint(IPAddress.Parse(direct.Host!), direct.Port));
        var proxied = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port }.ConnectionString;
        await using var db = new RelayDatabase(proxied);

        // Stall both writers on a lock, one message each, so the next 18 pile up and the first writer free takes them
        // all into one batch; the proxy drops the COMMIT of the batch holding the marked sender.
        await using var blocker = new NpgsqlConnection(fixture.ConnectionString);
        await blocker.OpenAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("lock table messages in share mode", blocker, hold))
            await command.ExecuteNonQueryAsync();
        var domain = $"lost-{mode}-{Guid.NewGuid():N}"[..30].ToLowerInvariant() + ".example";
        Task<string> Enqueue(string sender, int i) =>
            db.Queue.EnqueueAsync(TestMessages.Simple(sender), [new NewRecipient($"r{i}@{domain}")], CancellationToken.None);
        var enqueues = new List<Task<string>>();
        for (var i = 0; i < 2; i++) { enqueues.Add(Enqueue($"stall{i}@example.org", i)); await Task.Delay(200); }
        for (var i = 2; i < 20; i++) enqueues.Add(Enqueue(i == 10 ? "marked@example.org" : $"s{i}@example.org", i));
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        proxy.Arm(mode, "marked@example.org");
        await hold.RollbackAsync();

        var ids = await Task.WhenAll(enqueues).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, proxy.Dropped);
        Assert.Equal(20, ids.Distinct().Count());
        var stored = await RowsAsync($"select m.queue_id, m.sender, m.xmin::text from messages m join recipients r on r.message_id = m.id where r.next_hop = '{domain}'");
        output.WriteLine($"{mode}: commits (by xmin) holding the 20 messages: {string.Join(", ", stored.GroupBy(s => s.Xmin).Select(g => g.Count()))}");
        Assert.Equal(20, stored.Count);
        Assert.Equal(ids.Order(), stored.Select(s => s.QueueId).Order());
        var markedCommit = stored.Single(s => s.Sender == "marked@example.org").Xmin;
        // After the COMMIT reached the server, the marked message's whole batch committed together (a group, not one
        // message); when it never arrived, each message was retried alone.
        if (mode == CommitDroppingProxy.Mode.DropAfterForwarding) Assert.True(stored.Count(s => s.Xmin == markedCommit) > 1);
    }

    [Fact]
    public async Task A_full_or_read_only_database_is_told_apart_from_other_failures()
    {
        await ExecuteAsync(fixture.ConnectionString, """
            create function lost_disk_full() returns trigger language plpgsql as $$
            begin raise exception 'could not extend file: No space left on device' using errcode = 'disk_full'; end $$;
            create trigger lost_disk_full before insert on recipients for each row execute function lost_disk_full();
            """);
        try
        {
            var full = await Assert.ThrowsAsync<QueueStorageRefusedException>(() =>
                fixture.Database.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(1), CancellationToken.None));
            Assert.Equal("queue storage full", full.Cause);
            Assert.DoesNotContain("extend", full.Cause);
        }
        finally { await ExecuteAsync(fixture.ConnectionString, "drop trigger lost_disk_full on recipients; drop function lost_disk_full();"); }

        // Read-only for new sessions: a fresh pool sees it from its first connection.
        var name = new NpgsqlConnectionStringBuilder(fixture.ConnectionString).Database!;
        var cluster = await PostgresCluster.SharedAsync();
        await ExecuteAsync(cluster.AdminConnectionString, $"alter database \"{name}\" set default_transaction_read_only = on");
        try
        {
            await using var db = new RelayDatabase(new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Pooling = false }.ConnectionString);
            var readOnly = await Assert.ThrowsAsync<QueueStorageRefusedException>(() =>
                db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(1), CancellationToken.None));
            Assert.Equal("queue database read-only", readOnly.Cause);
        }
        finally { await ExecuteAsync(cluster.AdminConnectionString, $"alter database \"{name}\" reset default_transaction_read_only"); }

        // Anything else stays an ordinary failure (the listener's 451): here a NUL, which no text column takes.
        var other = await Assert.ThrowsAnyAsync<Exception>(() =>
            fixture.Database.Queue.EnqueueAsync(TestMessages.Simple(), [new NewRecipient("bad\0@example.net")], CancellationToken.None));
        Assert.IsNotType<QueueStorageRefusedException>(other);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<List<(string QueueId, string Sender, string Xmin)>> RowsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, string)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        return rows;
    }
}
