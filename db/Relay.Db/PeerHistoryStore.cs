using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>A peer's history as planning reads it (migration 0007): the times behind downgrade detection and the keys seen.</summary>
/// <param name="StartTlsOfferedAt">The last EHLO that offered STARTTLS.</param>
/// <param name="TlsEstablishedAt">The last completed TLS handshake.</param>
public sealed record PeerHistoryRow(string Name, string Address, DateTimeOffset? StartTlsOfferedAt, DateTimeOffset? TlsEstablishedAt,
    IReadOnlyList<string> Keys);

/// <summary>One certificate key a peer presented, with when it was first and last seen.</summary>
public sealed record PeerKeySighting(string Spki, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, int Attempts);

/// <summary>The peer page's view of the history: the sightings behind downgrade detection, the last flag, the keys.</summary>
public sealed record PeerHistoryDetail(bool? StartTlsOffered, DateTimeOffset? StartTlsSeenAt, DateTimeOffset? StartTlsOfferedAt,
    DateTimeOffset? TlsEstablishedAt, DateTimeOffset? DowngradeAt, string? DowngradeReason, IReadOnlyList<PeerKeySighting> Keys);

/// <summary>
/// Peer history for downgrade detection (RFC 7435 §3): written with each attempt, by the peer row's upsert in the attempt's
/// statement (<see cref="AttemptStatement"/>), and read by planning. Kept apart
/// from the attempt and peer rows so what history remembers is in one place. An EHLO is a fact about the peer whether or not
/// mail followed; only a completed handshake updates the TLS time and the keys.
/// </summary>
public sealed class PeerHistoryStore(NpgsqlDataSource dataSource)
{
    /// <summary>The history of these peers (name, address); peers never seen are absent.</summary>
    public async Task<IReadOnlyDictionary<(string Name, string Address), PeerHistoryRow>> LoadAsync(
        IReadOnlyCollection<(string Name, string Address)> peers, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<(string, string), PeerHistoryRow>();
        if (peers.Count == 0) return rows;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select p.name, p.address, p.starttls_offered_at, p.tls_established_at,
                   coalesce((select array_agg(k.spki_sha256 order by k.first_seen) from peer_keys k where k.peer_id = p.id), '{}')
              from peers p join unnest(@names, @addresses) as wanted(name, address) on p.name = wanted.name and p.address = wanted.address
            """, connection);
        command.Parameters.AddWithValue("names", peers.Select(p => p.Name).ToArray());
        command.Parameters.AddWithValue("addresses", peers.Select(p => p.Address).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var row = new PeerHistoryRow(reader.GetString(0), reader.GetString(1), NullableTime(reader, 2), NullableTime(reader, 3),
                reader.GetFieldValue<string[]>(4));
            rows[(row.Name, row.Address)] = row;
        }
        return rows;
    }

    /// <summary>One peer's history for its page; null when the peer is not recorded.</summary>
    public async Task<PeerHistoryDetail?> GetDetailAsync(string name, string address, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select p.starttls_offered, p.starttls_seen_at, p.starttls_offered_at, p.tls_established_at, p.downgrade_at, p.downgrade_reason,
                   k.spki_sha256, k.first_seen, k.last_seen, k.attempts
              from peers p left join peer_keys k on k.peer_id = p.id
             where p.name = @name and p.address = @address
             order by k.first_seen desc nulls last
            """, connection);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("address", address);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        PeerHistoryDetail? detail = null;
        var keys = new List<PeerKeySighting>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            detail ??= new PeerHistoryDetail(reader.IsDBNull(0) ? null : reader.GetBoolean(0), NullableTime(reader, 1), NullableTime(reader, 2),
                NullableTime(reader, 3), NullableTime(reader, 4), reader.NullableText(5), keys);
            if (!reader.IsDBNull(6))
                keys.Add(new PeerKeySighting(reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8),
                    reader.GetInt32(9)));
        }
        return detail;
    }

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
