using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>
/// The peer row (with its history and the key it presented) for a batch's attempts to one peer, as ONE upsert per peer and
/// transaction instead of one per attempt. Every attempt to a peer updated the same row: with 64 attempts in a commit
/// that was 64 new row versions and a lock the next transaction waited for, and the peer upserts took half the time of
/// recording a delivery (bench/README.md). The merged upsert leaves the row exactly as applying the attempts one after
/// the other would (sums, the last value, the best transport, "seen at" times); a batch whose attempts to one peer
/// presented different keys is written one attempt at a time, because the key change is history of its own.
/// </summary>
internal static class PeerHistoryStatement
{
    /// <summary>The batch's attempts with a peer, grouped per peer in batch order, each group one statement.</summary>
    public static IEnumerable<IReadOnlyList<AttemptWrite>> Groups(IEnumerable<AttemptWrite> batch)
    {
        foreach (var peer in batch.Where(w => w.PeerKey is not null).GroupBy(w => w.PeerKey!, StringComparer.Ordinal)
                     .OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var writes = peer.ToList();
            var sentKeys = writes.Where(w => w.Attempt.Transport is not null).Select(w => w.Attempt.PeerSpkiSha256).OfType<string>();
            var handshakeKeys = writes.Select(HandshakeKey).OfType<string>();
            if (sentKeys.Concat(handshakeKeys).Select(k => k.ToLowerInvariant()).Distinct(StringComparer.Ordinal).Count() <= 1)
                yield return writes;
            else
                foreach (var write in writes) yield return [write];
        }
    }

    public static NpgsqlBatchCommand For(IReadOnlyList<AttemptWrite> samePeer)
    {
        var last = samePeer[^1].Attempt;
        var sent = samePeer.Select(w => w.Attempt).Where(a => a.Transport is not null).ToList();
        var command = new NpgsqlBatchCommand($"""
            with peer as ({(sent.Count == 0 ? SeenPeer : UpsertPeer)} returning id)
            {SeenKey}
            """);
        var p = command.Parameters;
        p.AddWithValue("next_hop", last.NextHop);
        p.AddWithValue("name", last.PeerName!);
        p.AddWithValue("address", last.PeerAddress!);
        Text(p, "tlsa_status", samePeer.Select(w => w.Attempt.TlsaStatus).LastOrDefault(s => s is not null));
        p.AddWithValue("tlsa", (last.TlsaRecords ?? []).ToArray());
        if (sent.Count > 0)
        {
            var lastSent = sent[^1];
            Text(p, "transport", lastSent.Transport);
            p.AddWithValue("how", lastSent.How);
            Text(p, "reason", lastSent.Reason);
            Text(p, "tls_version", lastSent.TlsVersion);
            Text(p, "tls_cipher", lastSent.TlsCipher);
            Text(p, "spki", sent.Select(a => a.PeerSpkiSha256).LastOrDefault(k => k is not null));
            // Every sending attempt's transport, in order: the SQL ranks them (transport_rank) and counts them.
            p.AddWithValue("sent", NpgsqlDbType.Array | NpgsqlDbType.Text, sent.Select(a => a.Transport!).ToArray());
        }
        var offered = samePeer.Select(w => w.Attempt.Observation?.StartTlsOffered).ToList();
        p.AddWithValue("h_offered", NpgsqlDbType.Boolean, (object?)offered.LastOrDefault(o => o is not null) ?? DBNull.Value);
        p.AddWithValue("h_seen", offered.Any(o => o is not null));
        p.AddWithValue("h_offered_or_tls", samePeer.Any(w => w.Attempt.Observation?.StartTlsOffered == true || Tls(w)));
        p.AddWithValue("h_tls", samePeer.Any(Tls));
        Text(p, "downgrade_reason", samePeer.Select(w => w.Attempt.Downgrade).LastOrDefault(d => d is not null));
        var key = samePeer.Select(HandshakeKey).LastOrDefault(k => k is not null);
        Text(p, "h_key", key);
        p.AddWithValue("h_key_attempts", samePeer.Count(w => HandshakeKey(w) == key));
        return command;
    }

    private static bool Tls(AttemptWrite write) => write.Attempt.Observation?.TlsEstablished == true;

    /// <summary>The key of a completed handshake, as peer_keys stores it (lower-case hex SHA-256), or null.</summary>
    private static string? HandshakeKey(AttemptWrite write) =>
        Tls(write) && write.Attempt.PeerSpkiSha256?.ToLowerInvariant() is { Length: 64 } key ? key : null;

    // Peer history for downgrade detection (migration 0007, RFC 7435 §3). An EHLO is a fact about the peer whether or not
    // mail followed; only a completed handshake moves the TLS time and records a key; nothing observed leaves every column
    // as it was. Each "@h_" value is the group's: the last one seen, or whether any attempt saw it.
    private const string HistoryColumns =
        "starttls_offered, starttls_seen_at, starttls_offered_at, tls_established_at, downgrade_at, downgrade_reason";

    private const string HistoryValues = """
        @h_offered, case when @h_seen then now() end, case when @h_offered_or_tls then now() end, case when @h_tls then now() end,
                case when @downgrade_reason is null then null else now() end, @downgrade_reason
        """;

    private const string HistoryUpdates = """
        starttls_offered = coalesce(excluded.starttls_offered, p.starttls_offered),
            starttls_seen_at = coalesce(excluded.starttls_seen_at, p.starttls_seen_at),
            starttls_offered_at = coalesce(excluded.starttls_offered_at, p.starttls_offered_at),
            tls_established_at = coalesce(excluded.tls_established_at, p.tls_established_at),
            downgrade_at = coalesce(excluded.downgrade_at, p.downgrade_at),
            downgrade_reason = coalesce(excluded.downgrade_reason, p.downgrade_reason)
        """;

    // Attempts that sent nothing say nothing about the transport the peer gives mail: they only mark the peer as seen
    // (a new peer then has no transport yet) and add what the sessions saw to its history.
    private const string SeenPeer = $"""
        insert into peers as p (next_hop, name, address, last_how, last_tlsa_status, last_tlsa_records, {HistoryColumns})
        values (@next_hop, @name, @address, 'none', @tlsa_status, @tlsa, {HistoryValues})
        on conflict (name, address) do update set
            next_hop = excluded.next_hop,
            last_seen = now(),
            last_tlsa_status = coalesce(excluded.last_tlsa_status, p.last_tlsa_status),
            last_tlsa_records = excluded.last_tlsa_records,
            {HistoryUpdates}
        """;

    // best_transport only ever rises: it is the memory that lets the UI and TOFU spot a downgrade. The last_* columns are
    // the last attempt's that sent mail; excluded.best_transport is the group's best and the counters its attempts per
    // transport.
    private const string UpsertPeer = $"""
        insert into peers as p (next_hop, name, address, last_transport, last_how, last_reason, last_tls_version, last_tls_cipher,
                           last_spki_sha256, best_transport, last_tlsa_status, last_tlsa_records,
                           attempts_cleartext, attempts_encrypted, attempts_trusted, attempts_verified, {HistoryColumns})
        values (@next_hop, @name, @address, @transport, @how, @reason, @tls_version, @tls_cipher, @spki,
                (select t from unnest(@sent) t order by transport_rank(t) desc limit 1),
                @tlsa_status, @tlsa,
                cardinality(array_positions(@sent, 'cleartext')), cardinality(array_positions(@sent, 'encrypted')),
                cardinality(array_positions(@sent, 'trusted')), cardinality(array_positions(@sent, 'verified')),
                {HistoryValues})
        on conflict (name, address) do update set
            next_hop = excluded.next_hop,
            last_seen = now(),
            last_transport = excluded.last_transport,
            last_how = excluded.last_how,
            last_reason = excluded.last_reason,
            last_tls_version = excluded.last_tls_version,
            last_tls_cipher = excluded.last_tls_cipher,
            previous_spki_sha256 = case when excluded.last_spki_sha256 is distinct from p.last_spki_sha256
                                         and excluded.last_spki_sha256 is not null and p.last_spki_sha256 is not null
                                        then p.last_spki_sha256 else p.previous_spki_sha256 end,
            spki_changed_at = case when excluded.last_spki_sha256 is distinct from p.last_spki_sha256
                                    and excluded.last_spki_sha256 is not null and p.last_spki_sha256 is not null
                                   then now() else p.spki_changed_at end,
            last_spki_sha256 = coalesce(excluded.last_spki_sha256, p.last_spki_sha256),
            best_transport = case when p.best_transport is null or transport_rank(excluded.best_transport) > transport_rank(p.best_transport)
                                  then excluded.best_transport else p.best_transport end,
            best_seen_at = case when p.best_transport is null or transport_rank(excluded.best_transport) >= transport_rank(p.best_transport)
                                then now() else p.best_seen_at end,
            last_tlsa_status = coalesce(excluded.last_tlsa_status, p.last_tlsa_status),
            last_tlsa_records = excluded.last_tlsa_records,
            attempts_cleartext = p.attempts_cleartext + excluded.attempts_cleartext,
            attempts_encrypted = p.attempts_encrypted + excluded.attempts_encrypted,
            attempts_trusted = p.attempts_trusted + excluded.attempts_trusted,
            attempts_verified = p.attempts_verified + excluded.attempts_verified,
            {HistoryUpdates}
        """;

    // The key of the group's completed handshakes, with first/last seen (a key not seen before is a key change). The
    // foreign key to a peer row the peer CTE inserts holds: PostgreSQL checks it at the end of the statement.
    private const string SeenKey = """
        insert into peer_keys as k (peer_id, spki_sha256, attempts)
        select id, @h_key, @h_key_attempts from peer where @h_key is not null
        on conflict (peer_id, spki_sha256) do update set last_seen = now(), attempts = k.attempts + excluded.attempts
        """;

    private static void Text(NpgsqlParameterCollection parameters, string name, string? value) => AttemptStore.AddText(parameters, name, value);
}
