using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>
/// Alike attempt rows of one domain and day, counted: what a TLS report is summed from. <see cref="PolicyType"/> null
/// for rows recorded before migration 0006 (their TLSA records are in <see cref="TlsaRecords"/>).
/// </summary>
public sealed record TlsRptRow(string? PolicyType, IReadOnlyList<string> PolicyStrings, IReadOnlyList<string> MxHosts, IReadOnlyList<string> TlsaRecords,
    string? ResultType, bool TlsEstablished, string? SendingIp, string? PeerName, string? PeerAddress, string? ReceivingHelo, long Count);

/// <summary>
/// Reads delivery_attempts for TLS reporting: per recipient domain and UTC day [00:00Z, next 00:00Z), never the attempts
/// that carried one of our own reports. Which rows count, and how, is Relay.Policy's decision (TlsRptSession.Counts):
/// this only groups alike rows so a busy day is not read row by row.
/// </summary>
public sealed class TlsRptReader(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<TlsRptRow>> ReadDayAsync(string domain, DateOnly day, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select tlsrpt_policy_type, tlsrpt_policy_strings, tlsrpt_mx_hosts, tlsa_records, result_type, tls_version is not null,
                   tlsrpt_sending_ip, peer_name, peer_address, tlsrpt_receiving_helo, count(*)
              from delivery_attempts
             where next_hop = @domain and started_at >= @start and started_at < @end and not tlsrpt_report
             group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
            """, connection);
        command.Parameters.AddWithValue("domain", domain);
        AddDay(command.Parameters, day);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<TlsRptRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new TlsRptRow(Text(reader, 0), reader.GetFieldValue<string[]>(1), reader.GetFieldValue<string[]>(2), reader.GetFieldValue<string[]>(3),
                Text(reader, 4), reader.GetBoolean(5), Text(reader, 6), Text(reader, 7), Text(reader, 8), Text(reader, 9), reader.GetInt64(10)));
        return rows;
    }

    /// <summary>The recipient domains with an attempt of that day that may count (a result type or a TLS handshake).</summary>
    public async Task<IReadOnlyList<string>> DomainsAsync(DateOnly day, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select distinct next_hop from delivery_attempts
             where started_at >= @start and started_at < @end and not tlsrpt_report
               and (result_type is not null or tls_version is not null)
             order by 1
            """, connection);
        AddDay(command.Parameters, day);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var domains = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) domains.Add(reader.GetString(0));
        return domains;
    }

    internal static void AddDay(NpgsqlParameterCollection parameters, DateOnly day)
    {
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        parameters.AddWithValue("start", NpgsqlDbType.TimestampTz, start);
        parameters.AddWithValue("end", NpgsqlDbType.TimestampTz, start.AddDays(1));
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
