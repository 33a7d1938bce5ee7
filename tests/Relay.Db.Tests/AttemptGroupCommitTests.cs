using Npgsql;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.Db.Tests;

/// <summary>
/// Attempt records are committed in groups and keep delivery's promise: no record returns, and no recipient reads as
/// 'delivered', before the commit holding that attempt; concurrent attempts share commits; one bad attempt fails alone.
/// </summary>
public class AttemptGroupCommitTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private RelayDatabase Db => fixture.Database;

    [Fact]
    public async Task No_recipient_is_delivered_before_its_attempts_commit_and_waiting_attempts_share_few_commits()
    {
        var claimed = await TestMessages.EnqueueAndClaimAsync(Db, "stall.example", 20);
        // Another session holds a lock every insert into delivery_attempts must wait for: commits stall, as on a slow disk.
        await using var blocker = new NpgsqlConnection(fixture.ConnectionString);
        await blocker.OpenAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("lock table delivery_attempts in share mode", blocker, hold))
            await command.ExecuteNonQueryAsync();

        // Two peers, alternating: the batches lock peer rows in one order, so the two writers cannot deadlock.
        var records = claimed.Select((r, i) => Db.Attempts.RecordAsync(Attempt("stall.example", $"mx{i % 2}.stall.example"),
            [new RecipientOutcome(r.RecipientId, RecipientResult.Delivered, "250 2.0.0 ok")], CancellationToken.None)).ToList();
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.All(records, r => Assert.False(r.IsCompleted, "a record returned while its commit could not have happened"));
        Assert.Equal(0, await CountAsync("select count(*) from recipients where next_hop = 'stall.example' and state = 'delivered'"));

        await hold.RollbackAsync();
        var ids = await Task.WhenAll(records).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(20, ids.Distinct().Count());
        Assert.Equal(20, await CountAsync("select count(*) from recipients where next_hop = 'stall.example' and state = 'delivered'"));
        Assert.Equal(20, await CountAsync("select count(*) from attempt_recipients ar join delivery_attempts a on a.id = ar.attempt_id where a.next_hop = 'stall.example'"));
        Assert.Equal(20, await CountAsync("select sum(attempts_encrypted) from peers where next_hop = 'stall.example'"));
        // Two writers were blocked with one attempt each; the 18 that waited behind them share the next commits.
        Assert.InRange(await CountAsync("select count(distinct xmin::text) from delivery_attempts where next_hop = 'stall.example'"), 1, 6);
    }

    [Fact]
    public async Task An_attempt_the_schema_refuses_fails_alone_and_its_batch_mates_are_recorded()
    {
        var claimed = await TestMessages.EnqueueAndClaimAsync(Db, "poison.example", 10);
        await using var blocker = new NpgsqlConnection(fixture.ConnectionString);
        await blocker.OpenAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("lock table delivery_attempts in share mode", blocker, hold))
            await command.ExecuteNonQueryAsync();

        var good = claimed.Skip(1).Select(r => Db.Attempts.RecordAsync(Attempt("poison.example", "mx.poison.example"),
            [new RecipientOutcome(r.RecipientId, RecipientResult.Delivered, "250 ok")], CancellationToken.None)).ToList();
        // Nothing sent without a reason violates the table's check: it cannot be stored, whichever batch it lands in.
        var bad = Db.Attempts.RecordAsync(Attempt("poison.example", "mx.poison.example") with { Transport = null, Reason = null },
            [new RecipientOutcome(claimed[0].RecipientId, RecipientResult.Deferred, "451 later")], CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        await hold.RollbackAsync();

        await Assert.ThrowsAsync<PostgresException>(() => bad.WaitAsync(TimeSpan.FromSeconds(30)));
        await Task.WhenAll(good).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(9, await CountAsync("select count(*) from recipients where next_hop = 'poison.example' and state = 'delivered'"));
        // The refused attempt left its recipient exactly as it was: still leased, never attempted.
        Assert.Equal(1, await CountAsync($"select count(*) from recipients where id = {claimed[0].RecipientId} and state = 'queued' and attempts = 0"));
    }

    private static AttemptRecord Attempt(string nextHop, string peer) =>
        new(nextHop, peer, "127.0.0.20", 25, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(3), "dot", "250 2.0.0 ok", "dane",
            "encrypted", "none", "no-tlsa", TlsVersion: "Tls13");

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
