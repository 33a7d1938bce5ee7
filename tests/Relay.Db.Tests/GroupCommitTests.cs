using Npgsql;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.Db.Tests;

/// <summary>
/// Group commit keeps the durability promise: no enqueue returns (no `250`) before the transaction holding its own
/// message has committed; concurrent messages share commits; one bad message does not fail the others.
/// </summary>
public class GroupCommitTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private RelayDatabase Db => fixture.Database;

    [Fact]
    public async Task Nothing_returns_before_its_commit_and_waiting_messages_share_few_commits()
    {
        // Another session holds a lock every insert into messages must wait for: commits stall, as on a slow disk.
        await using var blocker = new NpgsqlConnection(fixture.ConnectionString);
        await blocker.OpenAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("lock table messages in share mode", blocker, hold))
            await command.ExecuteNonQueryAsync();

        var domain = $"group-{Guid.NewGuid():N}"[..14] + ".example";
        var enqueues = Enumerable.Range(0, 20)
            .Select(i => Db.Queue.EnqueueAsync(TestMessages.Simple($"s{i}@example.org"), [new NewRecipient($"r{i}@{domain}")], CancellationToken.None))
            .ToList();
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.All(enqueues, e => Assert.False(e.IsCompleted, "an enqueue returned while its commit could not have happened"));
        Assert.Equal(0, await CountAsync($"select count(*) from recipients where next_hop = '{domain}'"));

        await hold.RollbackAsync();
        var ids = await Task.WhenAll(enqueues).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(20, ids.Distinct().Count());
        Assert.Equal(20, await CountAsync($"select count(*) from recipients where next_hop = '{domain}'"));
        // Two writers were blocked with one message each; the 18 that waited behind them share the next commits.
        var commits = await CountAsync(
            $"select count(distinct m.xmin::text) from messages m join recipients r on r.message_id = m.id where r.next_hop = '{domain}'");
        Assert.InRange(commits, 1, 6);
    }

    [Fact]
    public async Task A_message_the_database_refuses_fails_alone_and_its_batch_mates_are_queued()
    {
        await using var blocker = new NpgsqlConnection(fixture.ConnectionString);
        await blocker.OpenAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("lock table messages in share mode", blocker, hold))
            await command.ExecuteNonQueryAsync();

        var domain = $"poison-{Guid.NewGuid():N}"[..15] + ".example";
        var good = Enumerable.Range(0, 10)
            .Select(i => Db.Queue.EnqueueAsync(TestMessages.Simple(), [new NewRecipient($"ok{i}@{domain}")], CancellationToken.None)).ToList();
        // NUL is not allowed in a text column: this one cannot be stored, whichever batch it lands in.
        var bad = Db.Queue.EnqueueAsync(TestMessages.Simple(), [new NewRecipient($"bad\0@{domain}")], CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        await hold.RollbackAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => bad.WaitAsync(TimeSpan.FromSeconds(30)));
        await Task.WhenAll(good).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(10, await CountAsync($"select count(*) from recipients where next_hop = '{domain}'"));
    }

    [Fact]
    public async Task A_single_enqueue_commits_at_once_and_each_message_keeps_its_own_recipients()
    {
        var domain = $"alone-{Guid.NewGuid():N}"[..14] + ".example";
        var id = await Db.Queue.EnqueueAsync(TestMessages.Simple(), TestMessages.Recipients(3, domain), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));
        var detail = (await Db.QueueReader.GetMessageAsync(id, CancellationToken.None))!;
        Assert.Equal([$"user0@{domain}", $"user1@{domain}", $"user2@{domain}"], detail.Recipients.Select(r => r.Address));
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
