using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>A message handed to the inbound queue, with the queue id it will have.</summary>
internal sealed record Enqueue(string QueueId, NewMessage Message, IReadOnlyList<NewRecipient> Recipients);

/// <summary>
/// Writes a batch of inbound messages for <see cref="GroupCommit{TItem, TResult}"/>: concurrent sessions' messages
/// share one transaction, so one WAL flush serves many `250`s, and each session's `250` still waits for its own commit.
/// </summary>
internal static class EnqueueWriter
{
    /// <summary>Messages per transaction at most, and their bodies' total: bounds one commit's work and memory.</summary>
    public const int MaxBatch = 64;
    public const long MaxBatchBytes = 16 * 1024 * 1024;

    public static GroupCommit<Enqueue, string> Create(NpgsqlDataSource dataSource) =>
        // Two writers keep the next batch inserting while the last one flushes.
        new(dataSource, WriteAsync, writers: 2, MaxBatch, e => e.Message.Body.Length, MaxBatchBytes, confirm: StoredAsync);

    /// <summary>
    /// Which of these messages are stored, after a COMMIT whose reply was lost. The queue id is Relay's, made per message
    /// (milliseconds and 32 random bits), so a row with it is almost surely this message; sender, size and the body's
    /// SHA-256 are compared too, so that a row is only taken for this message when it is this message.
    /// </summary>
    private static async Task<IReadOnlyDictionary<int, string>> StoredAsync(NpgsqlConnection connection, IReadOnlyList<Enqueue> items)
    {
        await using var command = new NpgsqlCommand("""
            select c.n
            from unnest(@queue_id, @sender, @size, @digest) with ordinality as c(queue_id, sender, size, digest, n)
            join messages m on m.queue_id = c.queue_id and m.sender = c.sender and m.size = c.size and sha256(m.body) = c.digest
            """, connection);
        command.Parameters.AddWithValue("queue_id", items.Select(i => i.QueueId).ToArray());
        command.Parameters.AddWithValue("sender", items.Select(i => i.Message.Sender).ToArray());
        command.Parameters.AddWithValue("size", items.Select(i => (long)i.Message.Body.Length).ToArray());
        command.Parameters.AddWithValue("digest", NpgsqlDbType.Array | NpgsqlDbType.Bytea, items.Select(i => SHA256.HashData(i.Message.Body.Span)).ToArray());
        var stored = new Dictionary<int, string>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            var index = (int)reader.GetInt64(0) - 1;
            stored[index] = items[index].QueueId;
        }
        return stored;
    }

    /// <summary>The batch's messages and their recipients in one statement, and one NOTIFY.</summary>
    private static async Task<IReadOnlyList<string>> WriteAsync(NpgsqlBatch commands, IReadOnlyList<Enqueue> batch)
    {
        // Queue ids are made here, so the recipients find their message by it within the same statement.
        var insert = new NpgsqlBatchCommand("""
            with m as (
                insert into messages (queue_id, sender, size, body, body_type, smtputf8, requiretls, dsn_envid, dsn_ret,
                                      client_address, client_helo, client_auth,
                                      inbound_transport, inbound_tls_version, inbound_tls_cipher, inbound_client_spki)
                select * from unnest(@queue_id, @sender, @size, @body, @body_type, @smtputf8, @requiretls, @envid, @ret,
                                     @client_address, @client_helo, @client_auth, @transport, @tls_version, @tls_cipher, @client_spki)
                returning id, queue_id)
            insert into recipients (message_id, address, next_hop, dsn_notify, dsn_orcpt)
            select m.id, r.address, r.next_hop, r.notify, r.orcpt
            from unnest(@r_queue_id, @addresses, @hops, @notify, @orcpt) with ordinality as r(queue_id, address, next_hop, notify, orcpt, n)
            join m on m.queue_id = r.queue_id
            order by r.n
            """);
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
        var recipients = batch.SelectMany(b => b.Recipients.Select(r => (b.QueueId, Recipient: r))).ToList();
        p.AddWithValue("r_queue_id", recipients.Select(r => r.QueueId).ToArray());
        p.AddWithValue("addresses", recipients.Select(r => r.Recipient.Address).ToArray());
        p.AddWithValue("hops", recipients.Select(r => r.Recipient.NextHop).ToArray());
        p.AddWithValue("notify", NpgsqlDbType.Array | NpgsqlDbType.Text, recipients.Select(r => r.Recipient.DsnNotify).ToArray());
        p.AddWithValue("orcpt", NpgsqlDbType.Array | NpgsqlDbType.Text, recipients.Select(r => r.Recipient.DsnOrcpt).ToArray());
        commands.BatchCommands.Add(insert);
        // NOTIFY is delivered at commit, so a woken worker always finds the rows.
        commands.BatchCommands.Add(new NpgsqlBatchCommand($"notify {RelayDatabase.QueueChannel}"));
        await commands.ExecuteNonQueryAsync().ConfigureAwait(false);
        return batch.Select(b => b.QueueId).ToList();
    }

    /// <summary>The body's own array when the memory is all of it (the listener's case): no copy of a large body.</summary>
    private static byte[] WholeArray(ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : body.ToArray();

    private static void Text(NpgsqlParameterCollection parameters, string name, IReadOnlyList<Enqueue> batch, Func<Enqueue, string?> value) =>
        parameters.AddWithValue(name, NpgsqlDbType.Array | NpgsqlDbType.Text, batch.Select(value).ToArray());
}
