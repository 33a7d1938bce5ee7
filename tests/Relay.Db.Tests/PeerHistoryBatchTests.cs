using Npgsql;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.Db.Tests;

/// <summary>
/// A batch writes each peer's row once (PeerHistoryStatement), and that row must read exactly as if the batch's attempts
/// had been recorded one after the other: the counters, the last transport and reason, the best transport, the STARTTLS
/// and TLS history, the downgrade flag and the key with its attempt count.
/// </summary>
public class PeerHistoryBatchTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private RelayDatabase Db => fixture.Database;
    private static readonly string Key = new('a', 64);
    private static readonly string OtherKey = new('b', 64);

    [Fact]
    public async Task A_batch_of_attempts_to_one_peer_leaves_its_row_as_recording_them_one_by_one_does()
    {
        await RecordOneByOneAsync("mx.single.example", Sequence(Key, Key));
        var xmins = await RecordInOneBatchAsync("mx.batch.example", Sequence(Key, Key));

        Assert.Equal(1, xmins); // the batch's attempts really shared one transaction (and so one peer upsert)
        var batched = await PeerRowAsync("mx.batch.example");
        Assert.Equal(await PeerRowAsync("mx.single.example"), batched);
        // And what that is: the sums, the last attempt that sent mail, the latest non-null values, every "seen" time set.
        Assert.Contains("last_transport=encrypted last_how=none last_reason=no-tlsa", batched);
        Assert.Contains("best_transport=encrypted last_tlsa_status=insecure counts=1/3/0/0 starttls_offered=true seen=t,t,t,t", batched);
        Assert.Contains($"downgrade_reason=STARTTLS offered before, not now keys={Key}:3", batched);
    }

    [Fact]
    public async Task A_batch_whose_attempts_to_one_peer_presented_two_keys_records_the_key_change_as_one_by_one_does()
    {
        await RecordOneByOneAsync("mx.rotated-single.example", Sequence(Key, OtherKey));
        Assert.Equal(1, await RecordInOneBatchAsync("mx.rotated-batch.example", Sequence(Key, OtherKey)));

        var batched = await PeerRowAsync("mx.rotated-batch.example");
        Assert.Equal(await PeerRowAsync("mx.rotated-single.example"), batched);
        Assert.Contains($"previous_spki_sha256={Key}", batched);
        Assert.Contains("spki_changed_at=set", batched);
        Assert.Contains($"keys={Key}:1,{OtherKey}:2", batched);
    }

    /// <summary>Nothing sent (EHLO offered STARTTLS), cleartext flagged as a downgrade, two TLS sessions, nothing sent again.</summary>
    private static List<AttemptRecord> Sequence(string firstKey, string secondKey) =>
    [
        Attempt(null, "connect timed out") with { Observation = new PeerObservation(true, false) },
        Attempt("cleartext", "starttls-not-offered") with { Observation = new PeerObservation(false, false), Downgrade = "STARTTLS offered before, not now" },
        Attempt("encrypted", "no-tlsa", firstKey) with { Observation = new PeerObservation(true, true) },
        Attempt("encrypted", "no-tlsa", secondKey) with { Observation = new PeerObservation(true, true) },
        Attempt("encrypted", "no-tlsa", secondKey) with { Observation = new PeerObservation(true, true), TlsaStatus = "insecure" },
        Attempt(null, "421 busy") with { Observation = null, TlsaStatus = null },
    ];

    private static AttemptRecord Attempt(string? transport, string reason, string? key = null) =>
        new("history.example", "mx", "127.0.0.30", 25, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(2), "dot",
            transport is null ? null : "250 ok", "may", transport, "none", reason,
            TlsVersion: transport is null or "cleartext" ? null : "Tls13", PeerSpkiSha256: key, TlsaStatus: "not-queried");

    private async Task RecordOneByOneAsync(string peer, List<AttemptRecord> attempts)
    {
        var recipients = await TestMessages.EnqueueAndClaimAsync(Db, peer, attempts.Count);
        for (var i = 0; i < attempts.Count; i++)
            await Db.Attempts.RecordAsync(attempts[i] with { PeerName = peer }, [Outcome(attempts[i], recipients[i])], CancellationToken.None);
    }

    /// <summary>Both writers held by one attempt each to another peer (their inserts wait for a lock), so the sequence queues
    /// up behind them and is committed as one batch; returns how many transactions its attempts took.</summary>
    private async Task<long> RecordInOneBatchAsync(string peer, List<AttemptRecord> attempts)
    {
        var recipients = await TestMessages.EnqueueAndClaimAsync(Db, peer, attempts.Count + 2);
        await using var blocker = new NpgsqlConnection(fixture.ConnectionString);
        await blocker.OpenAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand("lock table delivery_attempts in share mode", blocker, hold))
            await command.ExecuteNonQueryAsync();
        var occupying = recipients.Take(2).Select(r => Db.Attempts.RecordAsync(Attempt("encrypted", "no-tlsa") with { PeerName = "mx.occupy.example" },
            [new RecipientOutcome(r.RecipientId, RecipientResult.Delivered, "250 ok")], CancellationToken.None)).ToList();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var queued = attempts.Select((a, i) => Db.Attempts.RecordAsync(a with { PeerName = peer }, [Outcome(a, recipients[i + 2])],
            CancellationToken.None)).ToList();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await hold.RollbackAsync();
        await Task.WhenAll(occupying.Concat(queued)).WaitAsync(TimeSpan.FromSeconds(30));
        return await ScalarAsync<long>($"select count(distinct xmin::text) from delivery_attempts where peer_name = '{peer}'");
    }

    private static RecipientOutcome Outcome(AttemptRecord attempt, ClaimedRecipient recipient) =>
        attempt.Transport is null
            ? new RecipientOutcome(recipient.RecipientId, RecipientResult.Deferred, attempt.Reason, DateTimeOffset.UtcNow.AddMinutes(5))
            : new RecipientOutcome(recipient.RecipientId, RecipientResult.Delivered, "250 ok");

    /// <summary>Every column of the peer row and its keys, timestamps as set/null (they differ by when the test ran).</summary>
    private Task<string> PeerRowAsync(string peer) => ScalarAsync<string>($"""
        select concat_ws(' ', 'last_transport=' || coalesce(last_transport, '-'), 'last_how=' || last_how, 'last_reason=' || coalesce(last_reason, '-'),
            'last_tls_version=' || coalesce(last_tls_version, '-'), 'last_spki_sha256=' || coalesce(last_spki_sha256, '-'),
            'previous_spki_sha256=' || coalesce(previous_spki_sha256, '-'), 'spki_changed_at=' || case when spki_changed_at is null then 'null' else 'set' end,
            'best_transport=' || coalesce(best_transport, '-'), 'last_tlsa_status=' || coalesce(last_tlsa_status, '-'),
            'counts=' || attempts_cleartext || '/' || attempts_encrypted || '/' || attempts_trusted || '/' || attempts_verified,
            'starttls_offered=' || coalesce(starttls_offered::text, '-'),
            'seen=' || concat_ws(',', starttls_seen_at is not null, starttls_offered_at is not null, tls_established_at is not null, downgrade_at is not null),
            'downgrade_reason=' || coalesce(downgrade_reason, '-'),
            'keys=' || coalesce((select string_agg(k.spki_sha256 || ':' || k.attempts, ',' order by k.spki_sha256) from peer_keys k where k.peer_id = p.id), '-'))
        from peers p where name = '{peer}'
        """);

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }
}
