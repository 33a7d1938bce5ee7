using Npgsql;

namespace Relay.Db;

/// <param name="Mode">`none`, `testing` or `enforce`, as stored; Relay.Policy parses it.</param>
/// <param name="Lines">The fetched policy's own lines (migration 0010); null for rows cached before it.</param>
public sealed record StsPolicyRow(string Domain, string PolicyId, string Mode, IReadOnlyList<string> Mx, long MaxAgeSeconds, DateTimeOffset FetchedAt,
    IReadOnlyList<string>? Lines = null);

/// <summary>The MTA-STS policy cache (sts_policies): one row per policy domain, replaced by each successful fetch.</summary>
public sealed class StsPolicyStore(NpgsqlDataSource dataSource)
{
    public async Task<StsPolicyRow?> GetAsync(string domain, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "select domain, policy_id, mode, mx, max_age_seconds, fetched_at, policy_lines from sts_policies where domain = @domain", connection);
        command.Parameters.AddWithValue("domain", domain);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new StsPolicyRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<string[]>(3),
            reader.GetInt64(4), reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<string[]>(6));
    }

    public async Task SaveAsync(StsPolicyRow row, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            insert into sts_policies (domain, policy_id, mode, mx, max_age_seconds, fetched_at, policy_lines)
            values (@domain, @policy_id, @mode, @mx, @max_age_seconds, @fetched_at, @policy_lines)
            on conflict (domain) do update set policy_id = excluded.policy_id, mode = excluded.mode, mx = excluded.mx,
                max_age_seconds = excluded.max_age_seconds, fetched_at = excluded.fetched_at, policy_lines = excluded.policy_lines
            """, connection);
        command.Parameters.AddWithValue("domain", row.Domain);
        command.Parameters.AddWithValue("policy_id", row.PolicyId);
        command.Parameters.AddWithValue("mode", row.Mode);
        command.Parameters.AddWithValue("mx", row.Mx.ToArray());
        command.Parameters.AddWithValue("max_age_seconds", row.MaxAgeSeconds);
        command.Parameters.AddWithValue("fetched_at", row.FetchedAt.ToUniversalTime());
        command.Parameters.AddWithValue("policy_lines", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text, (object?)row.Lines?.ToArray() ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
