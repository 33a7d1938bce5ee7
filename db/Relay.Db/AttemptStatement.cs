using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>What one attempt writes: its row, its recipients' results (and, unless passed on, their new states), the peer.</summary>
internal sealed record AttemptWrite(AttemptRecord Attempt, IReadOnlyList<RecipientOutcome> Outcomes, bool PassedOn)
{
    /// <summary>The peer row the statement updates (null: none), so a batch can lock peers in one order.</summary>
    public string? PeerKey => Attempt.PeerName is not null && Attempt.PeerAddress is not null ? $"{Attempt.PeerName}\n{Attempt.PeerAddress}" : null;
}

/// <summary>
/// One attempt as ONE statement (data-modifying CTEs, which PostgreSQL runs exactly once each, on one snapshot): the
/// attempt row, the attempt_recipients links, the recipients' states, the peer row with its history and the key it
/// presented, returning the attempt's id. So an attempt costs one statement in a batch, not one round trip per row. Each
/// part is a named CTE with its own parameters, so a new column or a new history update is one more CTE or column here.
/// </summary>
internal static class AttemptStatement
{
    public static NpgsqlBatchCommand For(AttemptWrite write)
    {
        var a = write.Attempt;
        var hasPeer = write.PeerKey is not null;
        var command = new NpgsqlBatchCommand($"""
            with attempt as ({InsertAttempt}),
            link as (
                insert into attempt_recipients (attempt_id, recipient_id, result, reply)
                select attempt.id, o.recipient_id, o.result, o.reply
                from attempt, unnest(@r_ids, @r_results, @r_replies) with ordinality as o(recipient_id, result, reply, n)
                order by o.n
            ){(write.PassedOn ? "" : $",\nstates as ({UpdateStates})")}{(hasPeer ? $",\npeer as ({(a.Transport is null ? SeenPeer : UpsertPeer)} returning id),\nkey_seen as ({SeenKey})" : "")}
            select id from attempt
            """);
        var p = command.Parameters;
        AddAttempt(p, a);
        p.AddWithValue("r_ids", write.Outcomes.Select(o => o.RecipientId).ToArray());
        p.AddWithValue("r_results", write.Outcomes.Select(o => RecipientResults.ToWire(o.Result)).ToArray());
        p.AddWithValue("r_replies", NpgsqlDbType.Array | NpgsqlDbType.Text, write.Outcomes.Select(o => o.Reply).ToArray());
        if (!write.PassedOn)
            p.AddWithValue("r_next", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
                write.Outcomes.Select(o => (object?)o.NextAttemptAt ?? DBNull.Value).ToArray());
        if (hasPeer)
        {
            p.AddWithValue("name", a.PeerName!);
            p.AddWithValue("address", a.PeerAddress!);
            AddHistory(p, a);
        }
        return command;
    }

    private const string InsertAttempt = """
        insert into delivery_attempts (next_hop, peer_name, peer_address, peer_port, started_at, duration_ms, stage, reply,
            policy_level, transport, how, reason, tls_version, tls_cipher, peer_spki_sha256, peer_cert_subject,
            peer_cert_chain, tlsa_records, tlsa_status, mx_dnssec, address_dnssec, network, network_reason, result_type,
            tlsrpt_policy_type, tlsrpt_policy_strings, tlsrpt_mx_hosts, tlsrpt_sending_ip, tlsrpt_receiving_helo,
            downgrade, downgrade_reason, key_changed)
        values (@next_hop, @peer_name, @peer_address, @peer_port, @started_at, @duration_ms, @stage, @reply,
            @policy_level, @transport, @how, @reason, @tls_version, @tls_cipher, @spki, @subject,
            @chain, @tlsa, @tlsa_status, @mx_dnssec, @address_dnssec, @network, @network_reason, @result_type,
            @tlsrpt_policy_type, @tlsrpt_policy_strings, @tlsrpt_mx_hosts, @tlsrpt_sending_ip, @tlsrpt_receiving_helo,
            @downgrade_reason is not null, @downgrade_reason, @key_changed)
        returning id
        """;

    // A final state is never undone; the lease ends with the attempt that used it.
    private const string UpdateStates = """
        update recipients r
           set state = o.result, attempts = r.attempts + 1, last_attempt_at = now(), last_result = o.reply,
               next_attempt_at = coalesce(o.next_at, r.next_attempt_at),
               lease_owner = null, lease_expires_at = null, updated_at = now()
          from unnest(@r_ids, @r_results, @r_replies, @r_next) as o(recipient_id, result, reply, next_at)
         where r.id = o.recipient_id
           and r.state not in ('delivered', 'bounced')
        """;

    // Peer history for downgrade detection (migration 0007, RFC 7435 §3) is written by the peer row's own upsert: a sibling
    // CTE could not see a peer row this statement inserts. An EHLO is a fact about the peer whether or not mail followed;
    // only a completed handshake moves the TLS time and records a key; nothing observed leaves every column as it was.
    private const string HistoryColumns =
        "starttls_offered, starttls_seen_at, starttls_offered_at, tls_established_at, downgrade_at, downgrade_reason";

    private const string HistoryValues = """
        @h_offered, case when @h_offered is null then null else now() end,
                case when @h_offered or @h_tls then now() end, case when @h_tls then now() end,
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

    // An attempt that sent nothing says nothing about the transport the peer gives mail: it only marks the peer as seen
    // (a new peer then has no transport yet) and adds what the session saw to its history.
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

    // best_transport only ever rises: it is the memory that lets the UI and TOFU spot a downgrade.
    private const string UpsertPeer = $"""
        insert into peers as p (next_hop, name, address, last_transport, last_how, last_reason, last_tls_version, last_tls_cipher,
                           last_spki_sha256, best_transport, last_tlsa_status, last_tlsa_records,
                           attempts_cleartext, attempts_encrypted, attempts_trusted, attempts_verified, {HistoryColumns})
        values (@next_hop, @name, @address, @transport, @how, @reason, @tls_version, @tls_cipher, @spki, @transport,
                @tlsa_status, @tlsa,
                (@transport = 'cleartext')::int, (@transport = 'encrypted')::int, (@transport = 'trusted')::int, (@transport = 'verified')::int,
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
            best_transport = case when p.best_transport is null or transport_rank(excluded.last_transport) > transport_rank(p.best_transport)
                                  then excluded.last_transport else p.best_transport end,
            best_seen_at = case when p.best_transport is null or transport_rank(excluded.last_transport) >= transport_rank(p.best_transport)
                                then now() else p.best_seen_at end,
            last_tlsa_status = coalesce(excluded.last_tlsa_status, p.last_tlsa_status),
            last_tlsa_records = excluded.last_tlsa_records,
            attempts_cleartext = p.attempts_cleartext + excluded.attempts_cleartext,
            attempts_encrypted = p.attempts_encrypted + excluded.attempts_encrypted,
            attempts_trusted = p.attempts_trusted + excluded.attempts_trusted,
            attempts_verified = p.attempts_verified + excluded.attempts_verified,
            {HistoryUpdates}
        """;

    // The key of a completed handshake, per peer with first/last seen (a key not seen before is a key change). The foreign
    // key to a peer row the peer CTE inserts holds: PostgreSQL checks it at the end of the statement.
    private const string SeenKey = """
        insert into peer_keys as k (peer_id, spki_sha256)
        select id, @h_key from peer where @h_key is not null
        on conflict (peer_id, spki_sha256) do update set last_seen = now(), attempts = k.attempts + 1
        """;

    /// <summary>What the session saw of the peer for its history; the downgrade verdict is the attempt's (shared by name).</summary>
    private static void AddHistory(NpgsqlParameterCollection p, AttemptRecord a)
    {
        var tls = a.Observation?.TlsEstablished == true;
        var key = tls ? a.PeerSpkiSha256?.ToLowerInvariant() : null;
        p.AddWithValue("h_offered", NpgsqlDbType.Boolean, (object?)a.Observation?.StartTlsOffered ?? DBNull.Value);
        p.AddWithValue("h_tls", tls);
        Text(p, "h_key", key is { Length: 64 } ? key : null);
    }

    /// <summary>The attempt row's columns; the outcome ones (transport … tlsa) are shared with the peer CTEs by name.</summary>
    private static void AddAttempt(NpgsqlParameterCollection p, AttemptRecord a)
    {
        p.AddWithValue("next_hop", a.NextHop);
        Text(p, "peer_name", a.PeerName);
        Text(p, "peer_address", a.PeerAddress);
        p.AddWithValue("peer_port", NpgsqlDbType.Integer, (object?)a.PeerPort ?? DBNull.Value);
        p.AddWithValue("started_at", a.StartedAt);
        p.AddWithValue("duration_ms", (int)Math.Min(int.MaxValue, Math.Max(0, a.Duration.TotalMilliseconds)));
        p.AddWithValue("stage", a.Stage);
        Text(p, "reply", a.Reply);
        p.AddWithValue("policy_level", a.PolicyLevel);
        Text(p, "transport", a.Transport);
        p.AddWithValue("how", a.How);
        Text(p, "reason", a.Reason);
        Text(p, "tls_version", a.TlsVersion);
        Text(p, "tls_cipher", a.TlsCipher);
        Text(p, "spki", a.PeerSpkiSha256);
        Text(p, "tlsa_status", a.TlsaStatus);
        p.AddWithValue("tlsa", (a.TlsaRecords ?? []).ToArray());
        Text(p, "subject", a.PeerCertSubject);
        Text(p, "chain", a.PeerCertChain);
        Text(p, "mx_dnssec", a.MxDnssec);
        Text(p, "address_dnssec", a.AddressDnssec);
        p.AddWithValue("network", a.Network);
        Text(p, "network_reason", a.NetworkReason);
        Text(p, "result_type", a.ResultType);
        Text(p, "tlsrpt_policy_type", a.TlsRpt?.PolicyType);
        p.AddWithValue("tlsrpt_policy_strings", (a.TlsRpt?.PolicyStrings ?? []).ToArray());
        p.AddWithValue("tlsrpt_mx_hosts", (a.TlsRpt?.MxHosts ?? []).ToArray());
        Text(p, "tlsrpt_sending_ip", a.TlsRpt?.SendingIp);
        Text(p, "tlsrpt_receiving_helo", a.TlsRpt?.ReceivingHelo);
        Text(p, "downgrade_reason", a.Downgrade);
        p.AddWithValue("key_changed", a.KeyChanged);
    }

    private static void Text(NpgsqlParameterCollection parameters, string name, string? value) => AttemptStore.AddText(parameters, name, value);
}
