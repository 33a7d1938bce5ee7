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

public sealed partial class ReadModels
{
    public async Task<IReadOnlyList<PeerView>> ListPeersAsync(PeerFilter filter, Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ListPeersAsync(connection, filter, page, cancellationToken).ConfigureAwait(false);
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
                (subject, chain, spki, seenAt) = (NullableText(reader, 0), NullableText(reader, 1), NullableText(reader, 2), reader.GetFieldValue<DateTimeOffset>(3));
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
        p.last_tlsa_records, p.attempts_cleartext, p.attempts_encrypted, p.attempts_trusted, p.attempts_verified
        """;

    private static async Task<IReadOnlyList<PeerView>> ListPeersAsync(NpgsqlConnection connection, PeerFilter filter, Page page,
        CancellationToken cancellationToken)
    {
        // The ORDER BY is picked from constants by enum; every value the caller gave travels as a parameter.
        var orderBy = filter.Sort switch
        {
            PeerSort.LastSeenNewest => "p.last_seen desc, p.next_hop, p.name, p.address",
            PeerSort.WeakestFirst => "array_position(@order, p.last_transport), p.last_seen desc, p.name, p.address",
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
              and (not @downgraded or array_position(@order, p.last_transport) < array_position(@order, p.best_transport))
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
        p.AddWithValue("order", AttemptStore.TransportOrder);
        p.AddWithValue("offset", page.SafeOffset);
        p.AddWithValue("limit", page.SafeLimit);
        var rows = new List<PeerView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(ReadPeer(reader));
        return rows;
    }
}
