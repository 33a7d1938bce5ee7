using System.Runtime.InteropServices;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>
/// Group commit for the inbound queue: concurrent enqueues are inserted together and committed with one WAL flush,
/// and each caller's task completes only after the transaction that holds its own message has committed
/// (synchronous_commit on). One caller alone is committed at once, without waiting for company: while a commit is in
/// flight, whoever arrives waits for the next one, which then takes them all. A batch that fails is retried one
/// message at a time, so one bad message never costs the others their 250.
/// </summary>
internal sealed class EnqueueBatcher : IAsyncDisposable
{
    /// <summary>Messages per transaction at most; with <see cref="MaxBatchBytes"/>, bounds one commit's work and memory.</summary>
    private const int MaxBatch = 64;
    private const long MaxBatchBytes = 16 * 1024 * 1024;

    private readonly NpgsqlDataSource dataSource;
    private readonly Channel<Pending> channel = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Task[] writers;

    private sealed record Pending(string QueueId, NewMessage Message, IReadOnlyList<NewRecipient> Recipients, CancellationToken Cancellation)
    {
        public TaskCompletionSource<string> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <param name="writers">Transactions in flight at once: two keep the next batch inserting while the last one flushes.</param>
    public EnqueueBatcher(NpgsqlDataSource dataSource, int writers = 2)
    {
        this.dataSource = dataSource;
        this.writers = Enumerable.Range(0, writers).Select(_ => Task.Run(WriteLoopAsync)).ToArray();
    }

    public async Task<string> EnqueueAsync(NewMessage message, IReadOnlyList<NewRecipient> recipients, CancellationToken cancellationToken)
    {
        var pending = new Pending(QueueId.New(DateTimeOffset.UtcNow), message, recipients, cancellationToken);
        if (!channel.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(EnqueueBatcher), "the queue is shutting down");
        // A caller that gives up gets its error; its message may still commit (a possible duplicate, never a loss).
        return await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        var reader = channel.Reader;
        var batch = new List<Pending>(MaxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            long bytes = 0;
            while (batch.Count < MaxBatch && bytes < MaxBatchBytes && reader.TryRead(out var next))
            {
                // Given up before it was written: nothing of it reaches the database.
                if (next.Cancellation.IsCancellationRequested) { next.Done.TrySetCanceled(next.Cancellation); continue; }
                batch.Add(next);
                bytes += next.Message.Body.Length;
            }
            if (batch.Count == 0) continue;
            try
            {
                await CommitAsync(batch).ConfigureAwait(false);
                foreach (var p in batch) p.Done.TrySetResult(p.QueueId);
            }
            catch (Exception) when (batch.Count > 1)
            {
                foreach (var p in batch) await CommitAloneAsync(p).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                batch[0].Done.TrySetException(e);
            }
        }
    }

    private async Task CommitAloneAsync(Pending pending)
    {
        try
        {
            await CommitAsync([pending]).ConfigureAwait(false);
            pending.Done.TrySetResult(pending.QueueId);
        }
        catch (Exception e)
        {
            pending.Done.TrySetException(e);
        }
    }

    /// <summary>The batch's messages and recipients in one transaction: two multi-row inserts, one NOTIFY, one synchronous commit.</summary>
    private async Task CommitAsync(IReadOnlyList<Pending> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        // Whatever the server default, an acknowledged message must be on disk before we answer 250.
        await using (var sync = new NpgsqlCommand("set local synchronous_commit = on", connection, transaction))
            await sync.ExecuteNonQueryAsync().ConfigureAwait(false);

        var ids = new Dictionary<string, long>(batch.Count, StringComparer.Ordinal);
        await using (var insert = new NpgsqlCommand("""
            insert into messages (queue_id, sender, size, body, body_type, smtputf8, requiretls, dsn_envid, dsn_ret,
                                  client_address, client_helo, client_auth,
                                  inbound_transport, inbound_tls_version, inbound_tls_cipher, inbound_client_spki)
            select * from unnest(@queue_id, @sender, @size, @body, @body_type, @smtputf8, @requiretls, @envid, @ret,
                                 @client_address, @client_helo, @client_auth, @transport, @tls_version, @tls_cipher, @client_spki)
            returning queue_id, id
            """, connection, transaction))
        {
            var p = insert.Parameters;
            Text(p, "queue_id", batch, b => b.QueueId);
            Text(p, "sender", batch, b => b.Message.Sender);
            p.AddWithValue("size", batch.Select(b => (long)b.Message.Body.Length).ToArray());
            p.AddWithValue("body", NpgsqlDbType.Array | NpgsqlDbType.Bytea, batch.Select(b => WholeArray(b.Message.Body)).ToArray());
            Text(p, "body_type", batch, b => b.Message.BodyType);
            p.AddWithValue("smtputf8", batch.Select(b => b.Message.SmtpUtf8).ToArray());
            p.AddWithValue("requiretls", batch.Select(b => b.Message.RequireTls).ToArray());
            Text(p, "envid", batch, b => b.Message.DsnEnvid);
            Text(p, "ret", batch, b => b.Message.DsnRet);
            Text(p, "client_address", batch, b => b.Message.ClientAddress);
            Text(p, "client_helo", batch, b => b.Message.ClientHelo);
            Text(p, "client_auth", batch, b => b.Message.ClientAuth);
            Text(p, "transport", batch, b => b.Message.Inbound.Transport);
            Text(p, "tls_version", batch, b => b.Message.Inbound.TlsVersion);
            Text(p, "tls_cipher", batch, b => b.Message.Inbound.TlsCipher);
            Text(p, "client_spki", batch, b => b.Message.Inbound.ClientSpki);
            await using var reader = await insert.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
                ids[reader.GetString(0)] = reader.GetInt64(1);
        }

        var recipients = batch.SelectMany(b => b.Recipients.Select(r => (Id: ids[b.QueueId], Recipient: r))).ToList();
        await using (var rcpts = new NpgsqlCommand("""
            insert into recipients (message_id, address, next_hop, dsn_notify, dsn_orcpt)
            select * from unnest(@message_id, @addresses, @hops, @notify, @orcpt)
            """, connection, transaction))
        {
            rcpts.Parameters.AddWithValue("message_id", recipients.Select(r => r.Id).ToArray());
            rcpts.Parameters.AddWithValue("addresses", recipients.Select(r => r.Recipient.Address).ToArray());
            rcpts.Parameters.AddWithValue("hops", recipients.Select(r => r.Recipient.NextHop).ToArray());
            rcpts.Parameters.AddWithValue("notify", NpgsqlDbType.Array | NpgsqlDbType.Text, recipients.Select(r => r.Recipient.DsnNotify).ToArray());
            rcpts.Parameters.AddWithValue("orcpt", NpgsqlDbType.Array | NpgsqlDbType.Text, recipients.Select(r => r.Recipient.DsnOrcpt).ToArray());
            await rcpts.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        // NOTIFY is delivered at commit, so a woken worker always finds the rows.
        await using (var notify = new NpgsqlCommand($"notify {RelayDatabase.QueueChannel}", connection, transaction))
            await notify.ExecuteNonQueryAsync().ConfigureAwait(false);
        await transaction.CommitAsync().ConfigureAwait(false);
    }

    /// <summary>The body's own array when the memory is all of it (the listener's case): no copy of a large body.</summary>
    private static byte[] WholeArray(ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : body.ToArray();

    private static void Text(NpgsqlParameterCollection parameters, string name, IReadOnlyList<Pending> batch, Func<Pending, string?> value) =>
        parameters.AddWithValue(name, NpgsqlDbType.Array | NpgsqlDbType.Text, batch.Select(value).ToArray());

    /// <summary>Takes no more work and waits for what was already handed in to be committed (or failed).</summary>
    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await Task.WhenAll(writers).ConfigureAwait(false);
    }
}
