using Npgsql;

namespace Relay.Db;

/// <param name="Transport">Null when the attempt sent nothing (<see cref="Reason"/> says why).</param>
/// <param name="ResultType">The RFC 8460 result type of a failed attempt.</param>
public sealed record AttemptView(long Id, string NextHop, string? Peer, string? Address, int? Port, DateTimeOffset StartedAt, int DurationMs,
    string Stage, string? Reply, string PolicyLevel, string? Transport, string How, string? Reason, string? TlsVersion, string? TlsCipher,
    string? Spki, string? CertSubject, IReadOnlyList<string> Tlsa, string? TlsaStatus, string? MxDnssec, string? AddressDnssec,
    string Network, string? NetworkReason, string? ResultType, IReadOnlyList<AttemptRecipientView> Recipients)
{
    /// <summary>Flagged as a possible downgrade against the peer's history (<see cref="DowngradeReason"/> says why).</summary>
    public bool Downgrade { get; init; }
    public string? DowngradeReason { get; init; }
    /// <summary>The handshake presented a certificate key the peer had not presented before.</summary>
    public bool KeyChanged { get; init; }
}

public sealed record AttemptRecipientView(long RecipientId, string Address, string Result, string? Reply);

/// <summary>
/// Attempt rows, newest first: the one mapper every screen that lists attempts uses (a message's, a peer's, all of
/// them for the API and CSV). Read-only.
/// </summary>
public sealed class AttemptReader(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<AttemptView>> ListAttemptsAsync(Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(connection, "where @key::text is null", null, page, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Attempts flagged as a possible downgrade (peer history), newest first.</summary>
    public async Task<IReadOnlyList<AttemptView>> ListDowngradesAsync(Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(connection, "where d.downgrade and @key::text is null", null, page, cancellationToken).ConfigureAwait(false);
    }

    /// <param name="where">One of the readers' constant filters, never caller text; values travel as parameters
    /// (<c>@key</c>, and <c>@address</c> when <paramref name="address"/> is given).</param>
    internal static async Task<IReadOnlyList<AttemptView>> ReadAsync(NpgsqlConnection connection, string where, object? key, Page page,
        CancellationToken cancellationToken, string? address = null)
    {
        await using var command = new NpgsqlCommand($$"""
            select d.id, d.next_hop, d.peer_name, d.peer_address, d.peer_port, d.started_at, d.duration_ms, d.stage, d.reply, d.policy_level,
                   d.transport, d.how, d.reason, d.tls_version, d.tls_cipher, d.peer_spki_sha256, d.peer_cert_subject, d.tlsa_records,
                   d.tlsa_status, d.mx_dnssec, d.address_dnssec, d.network, d.network_reason, d.result_type,
                   coalesce((select array_agg(ar.recipient_id order by ar.recipient_id) from attempt_recipients ar where ar.attempt_id = d.id), '{}'),
                   coalesce((select array_agg(r.address order by ar.recipient_id) from attempt_recipients ar join recipients r on r.id = ar.recipient_id where ar.attempt_id = d.id), '{}'),
                   coalesce((select array_agg(ar.result order by ar.recipient_id) from attempt_recipients ar where ar.attempt_id = d.id), '{}'),
                   coalesce((select array_agg(coalesce(ar.reply, '') order by ar.recipient_id) from attempt_recipients ar where ar.attempt_id = d.id), '{}'),
                   d.downgrade, d.downgrade_reason, d.key_changed
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
            rows.Add(Read(reader));
        return rows;
    }

    private static AttemptView Read(NpgsqlDataReader reader)
    {
        var ids = reader.GetFieldValue<long[]>(24);
        var addresses = reader.GetFieldValue<string[]>(25);
        var results = reader.GetFieldValue<string[]>(26);
        var replies = reader.GetFieldValue<string[]>(27);
        var recipients = ids.Select((id, i) => new AttemptRecipientView(id, addresses[i], results[i], replies[i].Length == 0 ? null : replies[i])).ToList();
        return new AttemptView(reader.GetInt64(0), reader.GetString(1), reader.NullableText(2), reader.NullableText(3),
            reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetInt32(6), reader.GetString(7),
            reader.NullableText(8), reader.GetString(9), reader.NullableText(10), reader.GetString(11), reader.NullableText(12),
            reader.NullableText(13), reader.NullableText(14), reader.NullableText(15), reader.NullableText(16),
            reader.GetFieldValue<string[]>(17), reader.NullableText(18), reader.NullableText(19), reader.NullableText(20),
            reader.GetString(21), reader.NullableText(22), reader.NullableText(23), recipients)
        {
            Downgrade = reader.GetBoolean(28), DowngradeReason = reader.NullableText(29), KeyChanged = reader.GetBoolean(30),
        };
    }
}

internal static class ReaderExtensions
{
    public static string? NullableText(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
