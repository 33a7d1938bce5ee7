using Npgsql;

namespace Relay.Db;

public sealed record MessageSummary(string QueueId, string Sender, IReadOnlyList<string> Recipients, long Size, DateTimeOffset Received,
    string State, DateTimeOffset? NextAttempt, string? LastResult, string InboundTransport);

public sealed record RecipientView(long Id, string Address, string State, int Attempts, DateTimeOffset NextAttempt, string? LastResult,
    string? DsnNotify, string? DsnOrcpt);

public sealed record AttemptView(long Id, string NextHop, string? Peer, string? Address, int? Port, DateTimeOffset StartedAt, int DurationMs,
    string Stage, string? Reply, string PolicyLevel, string Transport, string How, string? Reason, string? TlsVersion, string? TlsCipher,
    string? Spki, string? CertSubject, IReadOnlyList<string> Tlsa, string? TlsaStatus, string? MxDnssec, string? AddressDnssec,
    string Network, string? NetworkReason, IReadOnlyList<AttemptRecipientView> Recipients);

public sealed record AttemptRecipientView(long RecipientId, string Address, string Result, string? Reply);

public sealed record MessageDetail(string QueueId, string Sender, long Size, DateTimeOffset Received, string BodyType, bool SmtpUtf8,
    bool RequireTls, string ClientAddress, string? ClientHelo, string? ClientAuth, InboundSecurity Inbound,
    IReadOnlyList<RecipientView> Recipients, IReadOnlyList<AttemptView> Attempts);

public sealed record PeerView(string NextHop, string Name, string Address, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    string LastTransport, string LastHow, string? LastReason, string? LastTlsVersion, string? LastTlsCipher, string? LastSpki,
    string? PreviousSpki, DateTimeOffset? SpkiChangedAt, string BestTransport, string? LastTlsaStatus, IReadOnlyList<string> LastTlsa,
    int AttemptsCleartext, int AttemptsEncrypted, int AttemptsTrusted, int AttemptsVerified)
{
    /// <summary>The peer once did better than it does now: the UI's downgrade warning.</summary>
    public bool Downgraded => Array.IndexOf(AttemptStore.TransportOrder, LastTransport) < Array.IndexOf(AttemptStore.TransportOrder, BestTransport);
}

/// <summary>Paged reads for the web UI and the CLI. Read-only: nothing here changes state.</summary>
public sealed partial class ReadModels(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<MessageSummary>> ListMessagesAsync(Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // A message's state is its least final recipient's: held > queued > deferred > bounced > delivered.
        await using var command = new NpgsqlCommand("""
            select m.queue_id, m.sender, array_agg(r.address order by r.id), m.size, m.received_at,
                   (array_agg(r.state order by array_position(array['held','queued','deferred','bounced','delivered'], r.state)))[1],
                   min(r.next_attempt_at) filter (where r.state in ('queued', 'deferred')),
                   (array_agg(r.last_result order by r.last_attempt_at desc nulls last))[1],
                   m.inbound_transport
            from messages m join recipients r on r.message_id = m.id
            group by m.id
            order by m.received_at desc, m.id desc
            offset @offset limit @limit
            """, connection);
        command.Parameters.AddWithValue("offset", page.SafeOffset);
        command.Parameters.AddWithValue("limit", page.SafeLimit);
        var rows = new List<MessageSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new MessageSummary(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<string[]>(2), reader.GetInt64(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetString(8)));
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
                reader.GetString(5), reader.GetBoolean(6), reader.GetBoolean(7), reader.GetString(8), NullableText(reader, 9),
                NullableText(reader, 10), new InboundSecurity(reader.GetString(11), NullableText(reader, 12), NullableText(reader, 13),
                    NullableText(reader, 14)), [], []);
        }
        var recipients = await ListRecipientsAsync(connection, messageId, cancellationToken).ConfigureAwait(false);
        var attempts = await ListAttemptsAsync(connection, "where d.id in (select ar.attempt_id from attempt_recipients ar join recipients r on r.id = ar.recipient_id where r.message_id = @key)",
            messageId, new Page(0, Page.MaxLimit), cancellationToken).ConfigureAwait(false);
        return detail with { Recipients = recipients, Attempts = attempts };
    }

    public async Task<IReadOnlyList<PeerView>> ListPeersAsync(Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select next_hop, name, address, first_seen, last_seen, last_transport, last_how, last_reason, last_tls_version, last_tls_cipher,
                   last_spki_sha256, previous_spki_sha256, spki_changed_at, best_transport, last_tlsa_status, last_tlsa_records,
                   attempts_cleartext, attempts_encrypted, attempts_trusted, attempts_verified
            from peers order by next_hop, name, address offset @offset limit @limit
            """, connection);
        command.Parameters.AddWithValue("offset", page.SafeOffset);
        command.Parameters.AddWithValue("limit", page.SafeLimit);
        var rows = new List<PeerView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(ReadPeer(reader));
        return rows;
    }

    /// <summary>Attempts with one peer (name and address), newest first.</summary>
    public async Task<IReadOnlyList<AttemptView>> ListPeerAttemptsAsync(string name, string address, Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ListAttemptsAsync(connection, "where d.peer_name = @key and d.peer_address = @address", name, page, cancellationToken, address)
            .ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<AttemptView>> ListAttemptsAsync(Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ListAttemptsAsync(connection, "where @key::text is null", null, page, cancellationToken).ConfigureAwait(false);
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
                reader.GetFieldValue<DateTimeOffset>(4), NullableText(reader, 5), NullableText(reader, 6), NullableText(reader, 7)));
        return rows;
    }

    private static async Task<IReadOnlyList<AttemptView>> ListAttemptsAsync(NpgsqlConnection connection, string where, object? key, Page page,
        CancellationToken cancellationToken, string? address = null)
    {
        // `where` is one of the constant filters above, never caller text; values travel as parameters.
        await using var command = new NpgsqlCommand($$"""
            select d.id, d.next_hop, d.peer_name, d.peer_address, d.peer_port, d.started_at, d.duration_ms, d.stage, d.reply, d.policy_level,
                   d.transport, d.how, d.reason, d.tls_version, d.tls_cipher, d.peer_spki_sha256, d.peer_cert_subject, d.tlsa_records,
                   d.tlsa_status, d.mx_dnssec, d.address_dnssec, d.network, d.network_reason,
                   coalesce((select array_agg(ar.recipient_id order by ar.recipient_id) from attempt_recipients ar where ar.attempt_id = d.id), '{}'),
                   coalesce((select array_agg(r.address order by ar.recipient_id) from attempt_recipients ar join recipients r on r.id = ar.recipient_id where ar.attempt_id = d.id), '{}'),
                   coalesce((select array_agg(ar.result order by ar.recipient_id) from attempt_recipients ar where ar.attempt_id = d.id), '{}'),
                   coalesce((select array_agg(coalesce(ar.reply, '') order by ar.recipient_id) from attempt_recipients ar where ar.attempt_id = d.id), '{}')
            from delivery_attempts d {{where}}
            order by d.started_at desc, d.id desc offset @offset limit @limit
            """, connection);
        command.Parameters.Add(new NpgsqlParameter("key", key ?? DBNull.Value) { NpgsqlDbType = key is long ? NpgsqlTypes.NpgsqlDbType.Bigint : NpgsqlTypes.NpgsqlDbType.Text });
        if (address is not null)
            command.Parameters.AddWithValue("address", address);
        command.Parameters.AddWithValue("offset", page.SafeOffset);
        command.Parameters.AddWithValue("limit", page.SafeLimit);
        var rows = new List<AttemptView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var ids = reader.GetFieldValue<long[]>(23);
            var addresses = reader.GetFieldValue<string[]>(24);
            var results = reader.GetFieldValue<string[]>(25);
            var replies = reader.GetFieldValue<string[]>(26);
            var recipients = ids.Select((id, i) => new AttemptRecipientView(id, addresses[i], results[i], replies[i].Length == 0 ? null : replies[i])).ToList();
            rows.Add(new AttemptView(reader.GetInt64(0), reader.GetString(1), NullableText(reader, 2), NullableText(reader, 3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetInt32(6), reader.GetString(7),
                NullableText(reader, 8), reader.GetString(9), reader.GetString(10), reader.GetString(11), NullableText(reader, 12),
                NullableText(reader, 13), NullableText(reader, 14), NullableText(reader, 15), NullableText(reader, 16),
                reader.GetFieldValue<string[]>(17), NullableText(reader, 18), NullableText(reader, 19), NullableText(reader, 20),
                reader.GetString(21), NullableText(reader, 22), recipients));
        }
        return rows;
    }

    private static PeerView ReadPeer(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4),
        reader.GetString(5), reader.GetString(6), NullableText(reader, 7), NullableText(reader, 8), NullableText(reader, 9),
        NullableText(reader, 10), NullableText(reader, 11), reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12),
        reader.GetString(13), NullableText(reader, 14), reader.GetFieldValue<string[]>(15),
        reader.GetInt32(16), reader.GetInt32(17), reader.GetInt32(18), reader.GetInt32(19));

    internal static string? NullableText(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
