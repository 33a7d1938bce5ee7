using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

public sealed record InboundSessionView(long Id, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string Listener, string ClientAddress,
    string? ClientHelo, string Transport, string? TlsVersion, string? TlsCipher, string? ClientSpki, string? AuthUser, int Messages, string? EndReason);

public sealed record InboundFilter(string? Transport = null, TimeSpan? Within = null);

/// <summary>One sending client and the security its sessions reached: "who reaches us in cleartext".</summary>
public sealed record InboundSender(string ClientAddress, string? LastHelo, string Transport, int Sessions, int Messages, DateTimeOffset LastSeen);

/// <summary>The inbound screen: who reaches us, and with what security. Read-only.</summary>
public sealed class InboundReader(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<InboundSessionView>> ListInboundSessionsAsync(InboundFilter filter, Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select id, started_at, ended_at, listener, client_address, client_helo, transport, tls_version, tls_cipher, client_spki,
                   auth_user, messages, end_reason
            from inbound_sessions
            where (@transport::text is null or transport = @transport) and (@within::interval is null or started_at >= now() - @within)
            order by started_at desc, id desc offset @offset limit @limit
            """, connection);
        AddInboundFilter(command.Parameters, filter);
        command.Parameters.AddWithValue("offset", page.SafeOffset);
        command.Parameters.AddWithValue("limit", page.SafeLimit);
        var rows = new List<InboundSessionView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(ReadSession(reader));
        return rows;
    }

    /// <summary>Sending clients grouped by address and transport, most sessions first.</summary>
    public async Task<IReadOnlyList<InboundSender>> ListInboundSendersAsync(InboundFilter filter, Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select client_address, (array_agg(client_helo order by started_at desc) filter (where client_helo is not null))[1],
                   transport, count(*)::int, sum(messages)::int, max(started_at)
            from inbound_sessions
            where (@transport::text is null or transport = @transport) and (@within::interval is null or started_at >= now() - @within)
            group by client_address, transport
            order by count(*) desc, client_address offset @offset limit @limit
            """, connection);
        AddInboundFilter(command.Parameters, filter);
        command.Parameters.AddWithValue("offset", page.SafeOffset);
        command.Parameters.AddWithValue("limit", page.SafeLimit);
        var rows = new List<InboundSender>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new InboundSender(reader.GetString(0), reader.NullableText(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4),
                reader.GetFieldValue<DateTimeOffset>(5)));
        return rows;
    }

    private static InboundSessionView ReadSession(NpgsqlDataReader reader) => new(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1),
        reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3), reader.GetString(4),
        reader.NullableText(5), reader.GetString(6), reader.NullableText(7), reader.NullableText(8), reader.NullableText(9),
        reader.NullableText(10), reader.GetInt32(11), reader.NullableText(12));

    private static void AddInboundFilter(NpgsqlParameterCollection p, InboundFilter filter)
    {
        p.AddWithValue("transport", NpgsqlDbType.Text, (object?)filter.Transport ?? DBNull.Value);
        p.AddWithValue("within", NpgsqlDbType.Interval, filter.Within is { } within ? within : (object)DBNull.Value);
    }
}
