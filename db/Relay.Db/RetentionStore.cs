using Npgsql;

namespace Relay.Db;

/// <summary>What one sweep deleted: finished messages (with their recipients), attempt records, inbound session rows.</summary>
public sealed record RetentionSweep(int Messages, int Attempts, int InboundSessions)
{
    public int Total => Messages + Attempts + InboundSessions;
}

/// <summary>
/// Deletes what the queue no longer needs once it is older than the retention: messages whose every recipient is final
/// (delivered or bounced) and has been for the retention, attempt records, and inbound session rows. A message with a
/// recipient still queued, deferred or held is never deleted, however old. Each call deletes at most
/// <c>limit</c> rows of each kind in one short transaction (SKIP LOCKED: several delivery processes may sweep at once),
/// so a large backlog goes in many small steps that never hold up delivery.
/// </summary>
public sealed class RetentionStore
{
    private readonly NpgsqlDataSource dataSource;

    internal RetentionStore(NpgsqlDataSource dataSource) => this.dataSource = dataSource;

    public async Task<RetentionSweep> SweepAsync(TimeSpan retention, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        // Nothing here needs its own WAL flush: a sweep lost in a crash is simply done again.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("select set_config('synchronous_commit', 'off', true)"));
        batch.BatchCommands.Add(Command("""
            with gone as (
                delete from messages where id in (
                    select m.id from messages m
                    where m.received_at < now() - @retention
                      and not exists (select 1 from recipients r
                                      where r.message_id = m.id
                                        and (r.state not in ('delivered', 'bounced') or r.updated_at >= now() - @retention))
                    order by m.received_at
                    limit @limit
                    for update skip locked)
                returning 1)
            select count(*)::int from gone
            """, retention, limit));
        batch.BatchCommands.Add(DeleteOlder("delivery_attempts", "started_at", retention, limit));
        batch.BatchCommands.Add(DeleteOlder("inbound_sessions", "started_at", retention, limit));
        var counts = new int[3];
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past set_config's row
        for (var i = 0; i < counts.Length; i++)
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            counts[i] = reader.GetInt32(0);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        }
        return new RetentionSweep(counts[0], counts[1], counts[2]);
    }

    /// <summary>The oldest rows of a table (at most <paramref name="limit"/>) whose time column is older than the retention.</summary>
    private static NpgsqlBatchCommand DeleteOlder(string table, string column, TimeSpan retention, int limit) => Command($"""
        with gone as (
            delete from {table} where id in (
                select id from {table} where {column} < now() - @retention
                order by {column} limit @limit for update skip locked)
            returning 1)
        select count(*)::int from gone
        """, retention, limit);

    private static NpgsqlBatchCommand Command(string sql, TimeSpan retention, int limit)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddWithValue("retention", retention);
        command.Parameters.AddWithValue("limit", limit);
        return command;
    }
}
