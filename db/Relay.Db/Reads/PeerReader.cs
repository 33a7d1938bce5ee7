using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

public enum PeerSort { Domain, LastSeenNewest, WeakestFirst }

/// <summary>Which peers to list. With <see cref="Transport"/> and <see cref="Within"/> both set, a peer matches
/// when it had an attempt with that outcome within the period ("cleartext in the last day"); with
/// <see cref="Transport"/> alone, when its latest outcome is that word.</summary>
public sealed record PeerFilter(string? Search = null, string? Transport = null, TimeSpan? Within = null, bool DowngradedOnly = false,
    PeerSort Sort = PeerSort.Domain);

public sealed record TlsaSighting(string Status, IReadOnlyList<string> Records, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, int Attempts);

/// <summary>What the peer detail page shows besides the attempts: the latest certificate seen and every TLSA answer seen.</summary>
public sealed record PeerEvidence(string? CertSubject, string? CertChain, string? Spki, DateTimeOffset? CertSeenAt, IReadOnlyList<TlsaSighting> Tlsa);

/// <param name="LastTransport">The transport of the latest attempt that carried mail; null while none has.</param>
/// <param name="Downgraded">The peer once did better than it does now: the UI's downgrade warning.</param>
public sealed record PeerView(string NextHop, string Name, string Address, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    string? LastTransport, string LastHow, string? LastReason, string? LastTlsVersion, string? LastTlsCipher, string? LastSpki,
    string? PreviousSpki, DateTimeOffset? SpkiChangedAt, string? BestTransport, string? LastTlsaStatus, IReadOnlyList<string> LastTlsa,
    int AttemptsCleartext, int AttemptsEncrypted, int AttemptsTrusted, int AttemptsVerified, bool Downgraded);

/// <summary>The peers screens: what security each peer gave, what it presented, and its attempts. Read-only.</summary>
public sealed class PeerReader(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<PeerView>> ListPeersAsync(PeerFilter filter, Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ListAsync(connection, filter, page, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Attempts with one peer (name and address), newest first.</summary>
    public async Task<IReadOnlyList<AttemptView>> ListPeerAttemptsAsync(string name, string address, Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await AttemptReader.ReadAsync(connection, "where d.peer_name = @key and d.peer_address = @address", name, page, cancellationToken, address)
            .ConfigureAwait(false);
    }

    public async Task<PeerView?> GetPeerAsync(string name, string address, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"select {PeerColumns} from peers p where p.name = @name and p.address = @address", connection);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("address", address);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadPeer(reader) : null;
    }

    public async Task<PeerEvidence> GetPeerEvidenceAsync(string name, string address, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        string? subject = null, chain = null, spki = null;
        DateTimeOffset? seenAt = null;
        await using (var command = new NpgsqlCommand("""
            select peer_cert_subject, peer_cert_chain, peer_spki_sha256, started_at from delivery_attempts
            where peer_name = @name and peer_address = @address and (peer_cert_subject is not null or peer_cert_chain is not null or peer_spki_sha256 is not null)
            order by started_at desc, id desc limit 1
            """, connection))
        {
            command.Parameters.AddWithValue("name", name);
            command.Parameters.AddWithValue("address", address);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                (subject, chain, spki, seenAt) = (reader.NullableText(0), reader.NullableText(1), reader.NullableText(2), reader.GetFieldValue<DateTimeOffset>(3));
        }
        var tlsa = new List<TlsaSighting>();
        await using (var command = new NpgsqlCommand("""
            select tlsa_status, tlsa_records, min(started_at), max(started_at), count(*)::int from delivery_attempts
            where peer_name = @name and peer_address = @address and tlsa_status is not null
            group by tlsa_status, tlsa_records order by max(started_at) desc limit 50
            """, connection))
        {
            command.Parameters.AddWithValue("name", name);
            command.Parameters.AddWithValue("address", address);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                tlsa.Add(new TlsaSighting(reader.GetString(0), reader.GetFieldValue<string[]>(1), reader.GetFieldValue<DateTimeOffset>(2),
                    reader.GetFieldValue<DateTimeOffset>(3), reader.GetInt32(4)));
        }
        return new PeerEvidence(subject, chain, spki, seenAt, tlsa);
    }

    private const string PeerColumns = """
        p.next_hop, p.name, p.address, p.first_seen, p.last_seen, p.last_transport, p.last_how, p.last_reason, p.last_tls_version,
        p.last_tls_cipher, p.last_spki_sha256, p.previous_spki_sha256, p.spki_changed_at, p.best_transport, p.last_tlsa_status,
        p.last_tlsa_records, p.attempts_cleartext, p.attempts_encrypted, p.attempts_trusted, p.attempts_verified,
        coalesce(transport_rank(p.last_transport) < transport_rank(p.best_transport), false)
        """;

    private static PeerView ReadPeer(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4),
        reader.NullableText(5), reader.GetString(6), reader.NullableText(7), reader.NullableText(8), reader.NullableText(9),
        reader.NullableText(10), reader.NullableText(11), reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12),
        reader.NullableText(13), reader.NullableText(14), reader.GetFieldValue<string[]>(15),
        reader.GetInt32(16), reader.GetInt32(17), reader.GetInt32(18), reader.GetInt32(19), reader.GetBoolean(20));

    internal static async Task<IReadOnlyList<PeerView>> ListAsync(NpgsqlConnection connection, PeerFilter filter, Page page,
        CancellationToken cancellationToken)
    {
        // The ORDER BY is picked from constants by enum; every value the caller gave travels as a parameter.
        var orderBy = filter.Sort switch
        {
            PeerSort.LastSeenNewest => "p.last_seen desc, p.next_hop, p.name, p.address",
            // Peers that never carried mail have no transport and sort first: nothing is known to protect them.
            PeerSort.WeakestFirst => "transport_rank(p.last_transport) nulls first, p.last_seen desc, p.name, p.address",
            _ => "p.next_hop, p.name, p.address",
        };
        await using var command = new NpgsqlCommand($"""
            select {PeerColumns} from peers p
            where (@pattern::text is null or p.next_hop ilike @pattern or p.name ilike @pattern or p.address ilike @pattern)
              and (@transport::text is null
                   or (@within::interval is null and p.last_transport = @transport)
                   or (@within::interval is not null and exists (
                          select 1 from delivery_attempts d
                          where d.peer_name = p.name and d.peer_address = p.address and d.transport = @transport and d.started_at >= now() - @within)))
              and (@within::interval is null or p.last_seen >= now() - @within)
              and (not @downgraded or transport_rank(p.last_transport) < transport_rank(p.best_transport))
            order by {orderBy}
            offset @offset limit @limit
            """, connection);
        var p = command.Parameters;
        var search = string.IsNullOrWhiteSpace(filter.Search) ? null
            : "%" + filter.Search.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        p.AddWithValue("pattern", NpgsqlDbType.Text, (object?)search ?? DBNull.Value);
        p.AddWithValue("transport", NpgsqlDbType.Text, (object?)filter.Transport ?? DBNull.Value);
        p.AddWithValue("within", NpgsqlDbType.Interval, filter.Within is { } within ? within : (object)DBNull.Value);
        p.AddWithValue("downgraded", filter.DowngradedOnly);
        p.AddWithValue("offset", page.SafeOffset);
        p.AddWithValue("limit", page.SafeLimit);
        var rows = new List<PeerView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(ReadPeer(reader));
        return rows;
    }
}
