using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>The durable queue: enqueue (before we say 250), claim with leases, load for delivery.</summary>
public sealed class QueueStore
{
    private readonly NpgsqlDataSource dataSource;
    private readonly GroupCommit<Enqueue, string> enqueues;

    internal QueueStore(NpgsqlDataSource dataSource, GroupCommit<Enqueue, string> enqueues)
    {
        this.dataSource = dataSource;
        this.enqueues = enqueues;
    }

    /// <summary>
    /// Commits the message and all its recipients durably (synchronous commit, shared with whatever other messages
    /// are committed at the same moment: <see cref="EnqueueWriter"/>), then returns the queue id. Only after this
    /// returns may the listener answer 250.
    /// </summary>
    /// <exception cref="QueueStorageRefusedException">The database is full or takes no writes (the listener's 452).</exception>
    public async Task<string> EnqueueAsync(NewMessage message, IReadOnlyList<NewRecipient> recipients, CancellationToken cancellationToken)
    {
        if (recipients.Count == 0)
            throw new ArgumentException("a message needs at least one recipient", nameof(recipients));
        try
        {
            return await enqueues.SubmitAsync(new Enqueue(QueueId.New(DateTimeOffset.UtcNow), message, recipients), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (QueueStorageRefusedException.CauseOf(e) is { } cause)
        {
            throw new QueueStorageRefusedException(cause, e);
        }
    }

    /// <summary>
    /// Leases up to <paramref name="batch"/> due recipients to <paramref name="owner"/>, grouped by next
    /// hop. SKIP LOCKED keeps concurrent claimers apart; an expired lease makes a recipient claimable
    /// again, so a crashed worker's recipients come back.
    /// </summary>
    public async Task<IReadOnlyList<NextHopBatch>> ClaimAsync(int batch, TimeSpan leaseDuration, string owner, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // A lease needs no WAL flush of its own: lost in a crash, the recipients are simply claimable again (as after the
        // lease), and every later synchronous commit (a record, an enqueue) flushes it anyway. This saves one disk flush per
        // claim, which a lightly loaded queue pays per message. Both statements travel in one round trip and one implicit
        // transaction, so the local setting covers the claim's commit.
        await using var batchCommands = new NpgsqlBatch(connection);
        batchCommands.BatchCommands.Add(new NpgsqlBatchCommand("select set_config('synchronous_commit', 'off', true)"));
        var command = new NpgsqlBatchCommand("""
            with due as (
                select r.id
                from recipients r
                where r.state in ('queued', 'deferred')
                  and r.next_attempt_at <= now()
                  and (r.lease_expires_at is null or r.lease_expires_at <= now())
                order by r.next_attempt_at, r.id
                limit @batch
                for update of r skip locked
            )
            update recipients r
               set lease_owner = @owner, lease_expires_at = now() + @lease, updated_at = now()
              from due, messages m
             where r.id = due.id and m.id = r.message_id
            returning r.id, r.message_id, m.queue_id, r.address, r.next_hop, r.attempts, r.dsn_notify, r.dsn_orcpt,
                      m.received_at, r.lease_expires_at, r.bounce_requested_at is not null
            """);
        command.Parameters.AddWithValue("batch", Math.Max(1, batch));
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("lease", leaseDuration);
        batchCommands.BatchCommands.Add(command);
        var claimed = new List<ClaimedRecipient>();
        await using (var reader = await batchCommands.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past set_config's row
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                claimed.Add(new ClaimedRecipient(
                    reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    reader.GetFieldValue<DateTimeOffset>(8), reader.GetFieldValue<DateTimeOffset>(9), reader.GetBoolean(10)));
        }
        return claimed.GroupBy(r => r.NextHop, StringComparer.Ordinal)
            .Select(g => new NextHopBatch(g.Key, g.OrderBy(r => r.MessageId).ThenBy(r => r.RecipientId).ToList()))
            .ToList();
    }

    /// <summary>
    /// Extends the lease on recipients this owner still holds, so a long session (a big batch to a slow
    /// peer) never lets its lease lapse and another worker deliver the same recipients again. Returns the
    /// ids whose lease was extended: an id missing from it was lost, and the caller must stop using it.
    /// </summary>
    public async Task<IReadOnlyList<long>> RenewLeasesAsync(IReadOnlyCollection<long> recipientIds, TimeSpan leaseDuration, string owner,
        CancellationToken cancellationToken)
    {
        if (recipientIds.Count == 0) return [];
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            update recipients set lease_expires_at = now() + @lease
            where id = any(@ids) and lease_owner = @owner and lease_expires_at > now() and state in ('queued', 'deferred')
            returning id
            """, connection);
        command.Parameters.AddWithValue("ids", recipientIds.ToArray());
        command.Parameters.AddWithValue("lease", leaseDuration);
        command.Parameters.AddWithValue("owner", owner);
        var renewed = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            renewed.Add(reader.GetInt64(0));
        return renewed;
    }

    /// <summary>When the earliest waiting recipient becomes due (null when nothing waits), for the scheduler's sleep.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select min(greatest(next_attempt_at, coalesce(lease_expires_at, next_attempt_at)))
            from recipients where state in ('queued', 'deferred')
            """, connection);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DateTime dt ? new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)) : null;
    }

    /// <summary>The message by its public queue id (for operator actions such as `relay queue bounce`).</summary>
    public async Task<QueuedMessage?> LoadMessageAsync(string queueId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("select id from messages where queue_id = @queue_id", connection);
        command.Parameters.AddWithValue("queue_id", queueId);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long id
            ? await LoadMessageAsync(id, cancellationToken).ConfigureAwait(false)
            : null;
    }

    public async Task<QueuedMessage?> LoadMessageAsync(long messageId, CancellationToken cancellationToken) =>
        (await LoadMessagesAsync([messageId], cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    /// <summary>
    /// The messages of a claimed batch in one round trip, in the order of <paramref name="messageIds"/>; a message
    /// deleted meanwhile is missing from the answer. Bodies are bounded by the claim (ClaimBatch recipients at most).
    /// </summary>
    public async Task<IReadOnlyList<QueuedMessage>> LoadMessagesAsync(IReadOnlyList<long> messageIds, CancellationToken cancellationToken)
    {
        if (messageIds.Count == 0) return [];
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select m.id, m.queue_id, m.sender, m.body, m.received_at, m.body_type, m.smtputf8, m.requiretls, m.dsn_envid, m.dsn_ret
            from unnest(@ids) with ordinality as wanted(id, n)
            join messages m on m.id = wanted.id
            order by wanted.n
            """, connection);
        command.Parameters.AddWithValue("ids", messageIds.ToArray());
        var messages = new List<QueuedMessage>(messageIds.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            messages.Add(new QueuedMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<byte[]>(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5), reader.GetBoolean(6), reader.GetBoolean(7),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
        return messages;
    }
}
