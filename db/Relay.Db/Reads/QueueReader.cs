using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

public sealed record MessageSummary(string QueueId, string Sender, IReadOnlyList<string> Recipients, long Size, DateTimeOffset Received,
    string State, DateTimeOffset? NextAttempt, string? LastResult, string InboundTransport);

public sealed record RecipientView(long Id, string Address, string State, int Attempts, DateTimeOffset NextAttempt, string? LastResult,
    string? DsnNotify, string? DsnOrcpt);

public sealed record MessageDetail(string QueueId, string Sender, long Size, DateTimeOffset Received, string BodyType, bool SmtpUtf8,
    bool RequireTls, string ClientAddress, string? ClientHelo, string? ClientAuth, InboundSecurity Inbound,
    IReadOnlyList<RecipientView> Recipients, IReadOnlyList<AttemptView> Attempts);

/// <summary>The queue screens and `relay queue`: messages, their recipients and every attempt made for them. Read-only.</summary>
public sealed class QueueReader(NpgsqlDataSource dataSource)
{
    /// <summary>Newest first; with <paramref name="state"/>, only messages whose state (their least final recipient's) is that word.</summary>
    public async Task<IReadOnlyList<MessageSummary>> ListMessagesAsync(Page page, CancellationToken cancellationToken, string? state = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // A message's state is its least final recipient's: held > queued > deferred > bounced > delivered.
        await using var command = new NpgsqlCommand("""
            select * from (
                select m.queue_id, m.sender, array_agg(r.address order by r.id), m.size, m.received_at,
                       (array_agg(r.state order by array_position(array['held','queued','deferred','bounced','delivered'], r.state)))[1] as state,
                       min(r.next_attempt_at) filter (where r.state in ('queued', 'deferred')),
                       (array_agg(r.last_result order by r.last_attempt_at desc nulls last))[1],
                       m.inbound_transport, m.id
                from messages m join recipients r on r.message_id = m.id
                group by m.id) as summary
            where @state::text is null or summary.state = @state
            order by summary.received_at desc, summary.id desc
            offset @offset limit @limit
            """, connection);
        command.Parameters.AddWithValue("state", NpgsqlDbType.Text, (object?)state ?? DBNull.Value);
        command.Parameters.AddWithValue("offset", page.SafeOffset);
        command.Parameters.AddWithValue("limit", page.SafeLimit);
        var rows = new List<MessageSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new MessageSummary(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<string[]>(2), reader.GetInt64(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), reader.NullableText(7), reader.GetString(8)));
        return rows;
    }

    public async Task<MessageDetail?> GetMessageAsync(string queueId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        long messageId;
        MessageDetail detail;
        await using (var command = new NpgsqlCommand("""
            select id, queue_id, sender, size, received_at, body_type, smtputf8, requiretls, client_address, client_helo, client_auth,
                   inbound_transport, inbound_tls_version, inbound_tls_cipher, inbound_client_spki
            from messages where queue_id = @queue_id
            """, connection))
        {
            command.Parameters.AddWithValue("queue_id", queueId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                return null;
            messageId = reader.GetInt64(0);
            detail = new MessageDetail(reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetString(5), reader.GetBoolean(6), reader.GetBoolean(7), reader.GetString(8), reader.NullableText(9),
                reader.NullableText(10), new InboundSecurity(reader.GetString(11), reader.NullableText(12), reader.NullableText(13),
                    reader.NullableText(14)), [], []);
        }
        var recipients = await ListRecipientsAsync(connection, messageId, cancellationToken).ConfigureAwait(false);
        var attempts = await AttemptReader.ReadAsync(connection,
            "where d.id in (select ar.attempt_id from attempt_recipients ar join recipients r on r.id = ar.recipient_id where r.message_id = @key)",
            messageId, new Page(0, Page.MaxLimit), cancellationToken).ConfigureAwait(false);
        return detail with { Recipients = recipients, Attempts = attempts };
    }

    private static async Task<IReadOnlyList<RecipientView>> ListRecipientsAsync(NpgsqlConnection connection, long messageId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            select id, address, state, attempts, next_attempt_at, last_result, dsn_notify, dsn_orcpt
            from recipients where message_id = @id order by id
            """, connection);
        command.Parameters.AddWithValue("id", messageId);
        var rows = new List<RecipientView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new RecipientView(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.NullableText(5), reader.NullableText(6), reader.NullableText(7)));
        return rows;
    }
}
