using Npgsql;

namespace Relay.Db;

public sealed record DestinationPolicyRow(string Destination, string Level, IReadOnlyList<string> Fingerprints,
    IReadOnlyList<string> MatchNames, string? Note, DateTimeOffset UpdatedAt);

public sealed record IpsecPolicyRow(string Prefix, string Class, DateTimeOffset UpdatedAt);

/// <summary>Explicit per-destination TLS policy and IPsec OE classes. Validation of values is the caller's
/// (Relay.Policy); the schema's CHECK constraints are the last line.</summary>
public sealed class PolicyStore(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<DestinationPolicyRow>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "select destination, level, fingerprints, match_names, note, updated_at from destination_policies order by destination", connection);
        var rows = new List<DestinationPolicyRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new DestinationPolicyRow(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<string[]>(2),
                reader.GetFieldValue<string[]>(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5)));
        return rows;
    }

    public async Task SetAsync(string destination, string level, IReadOnlyList<string> fingerprints, IReadOnlyList<string> matchNames,
        string? note, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            insert into destination_policies (destination, level, fingerprints, match_names, note)
            values (@destination, @level, @fingerprints, @match_names, @note)
            on conflict (destination) do update set level = excluded.level, fingerprints = excluded.fingerprints,
                match_names = excluded.match_names, note = excluded.note, updated_at = now()
            """, connection);
        command.Parameters.AddWithValue("destination", destination);
        command.Parameters.AddWithValue("level", level);
        command.Parameters.AddWithValue("fingerprints", fingerprints.ToArray());
        command.Parameters.AddWithValue("match_names", matchNames.ToArray());
        AttemptStore.AddText(command.Parameters, "note", note);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when a policy was deleted.</summary>
    public async Task<bool> DeleteAsync(string destination, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("delete from destination_policies where destination = @destination", connection);
        command.Parameters.AddWithValue("destination", destination);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<IReadOnlyList<IpsecPolicyRow>> ListIpsecAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("select prefix::text, class, updated_at from ipsec_policies order by prefix", connection);
        var rows = new List<IpsecPolicyRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new IpsecPolicyRow(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        return rows;
    }

    public async Task SetIpsecAsync(string prefix, string @class, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            insert into ipsec_policies (prefix, class) values (@prefix::cidr, @class)
            on conflict (prefix) do update set class = excluded.class, updated_at = now()
            """, connection);
        command.Parameters.AddWithValue("prefix", prefix);
        command.Parameters.AddWithValue("class", @class);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> DeleteIpsecAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("delete from ipsec_policies where prefix = @prefix::cidr", connection);
        command.Parameters.AddWithValue("prefix", prefix);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }
}
