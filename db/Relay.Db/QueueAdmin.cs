using Npgsql;

namespace Relay.Db;

/// <summary>Operator actions on one message (by queue id). Each returns how many recipients it changed;
/// zero means the message is unknown or had nothing in a state the action applies to.</summary>
public sealed class QueueAdmin(NpgsqlDataSource dataSource)
{
    /// <summary>Makes every waiting recipient due now.</summary>
    public Task<int> RetryAsync(string queueId, CancellationToken cancellationToken) => UpdateAsync(queueId, """
        update recipients r set next_attempt_at = now(), updated_at = now()
        from messages m where m.id = r.message_id and m.queue_id = @queue_id and r.state in ('queued', 'deferred')
        """, cancellationToken);

    /// <summary>Stops delivery of every waiting recipient until released.</summary>
    public Task<int> HoldAsync(string queueId, CancellationToken cancellationToken) => UpdateAsync(queueId, """
        update recipients r set state = 'held', lease_owner = null, lease_expires_at = null, updated_at = now()
        from messages m where m.id = r.message_id and m.queue_id = @queue_id and r.state in ('queued', 'deferred')
        """, cancellationToken);

    public Task<int> ReleaseAsync(string queueId, CancellationToken cancellationToken) => UpdateAsync(queueId, $"""
        with released as (
            update recipients r set state = case when r.attempts = 0 then 'queued' else 'deferred' end,
                   next_attempt_at = now(), updated_at = now()
            from messages m where m.id = r.message_id and m.queue_id = @queue_id and r.state = 'held'
            returning r.id)
        select count(*)::int from released, pg_notify('{RelayDatabase.QueueChannel}', '')
        """, cancellationToken, scalar: true);

    /// <summary>Gives up on every waiting or held recipient now (`relay queue bounce`); the caller sends the DSN.</summary>
    public Task<int> BounceAsync(string queueId, CancellationToken cancellationToken) => UpdateAsync(queueId, """
        update recipients r set state = 'bounced', last_result = '5.0.0 bounced by the operator', lease_owner = null,
               lease_expires_at = null, updated_at = now()
        from messages m where m.id = r.message_id and m.queue_id = @queue_id and r.state in ('queued', 'deferred', 'held')
        """, cancellationToken);

    /// <summary>
    /// Asks delivery to bounce every waiting or held recipient (the web UI's "bounce"): they become due now
    /// and the worker that claims them sends the DSN instead of trying a peer.
    /// </summary>
    public Task<int> RequestBounceAsync(string queueId, CancellationToken cancellationToken) => UpdateAsync(queueId, $"""
        with requested as (
            update recipients r set bounce_requested_at = now(), next_attempt_at = now(), updated_at = now(),
                   state = case when r.state = 'held' then (case when r.attempts = 0 then 'queued' else 'deferred' end) else r.state end
            from messages m where m.id = r.message_id and m.queue_id = @queue_id and r.state in ('queued', 'deferred', 'held')
            returning r.id)
        select count(*)::int from requested, pg_notify('{RelayDatabase.QueueChannel}', '')
        """, cancellationToken, scalar: true);

    /// <summary>Removes the message and everything recorded about it.</summary>
    public async Task<bool> DeleteAsync(string queueId, CancellationToken cancellationToken) =>
        await UpdateAsync(queueId, "delete from messages where queue_id = @queue_id", cancellationToken) > 0;

    private async Task<int> UpdateAsync(string queueId, string sql, CancellationToken cancellationToken, bool scalar = false)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("queue_id", queueId);
        if (scalar)
            return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
