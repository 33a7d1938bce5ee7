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
/// attempt row, the attempt_recipients links, the recipients' states and the peer's history, returning the attempt's id.
/// So an attempt costs one statement in a batch, not one round trip per row. Each part is a named CTE with its own
/// parameters, so a new column or a new history update is one more CTE or column here.
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
            ){(write.PassedOn ? "" : $",\nstates as ({UpdateStates})")}{(hasPeer ? $",\npeer as ({(a.Transport is null ? SeenPeer : UpsertPeer)})" : "")}
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
        }
        return command;
    }

    private const string InsertAttempt = """
        insert into delivery_attempts (next_hop, peer_name, peer_address, peer_port, started_at, duration_ms, stage, reply,
            policy_level, transport, how, reason, tls_version, tls_cipher, peer_spki_sha256, peer_cert_subject,
            peer_cert_chain, tlsa_records, tlsa_status, mx_dnssec, address_dnssec, network, network_reason, result_type)
        values (@next_hop, @peer_name, @peer_address, @peer_port, @started_at, @duration_ms, @stage, @reply,
            @policy_level, @transport, @how, @reason, @tls_version, @tls_cipher, @spki, @subject,
            @chain, @tlsa, @tlsa_status, @mx_dnssec, @address_dnssec, @network, @network_reason, @result_type)
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

    // An attempt that sent nothing says nothing about the transport the peer gives mail: it only marks the peer as seen
    // (a new peer then has no transport yet).
    private const string SeenPeer = """
        insert into peers as p (next_hop, name, address, last_how, last_tlsa_status, last_tlsa_records)
        values (@next_hop, @name, @address, 'none', @tlsa_status, @tlsa)
        on conflict (name, address) do update set
            next_hop = excluded.next_hop,
            last_seen = now(),
            last_tlsa_status = coalesce(excluded.last_tlsa_status, p.last_tlsa_status),
            last_tlsa_records = excluded.last_tlsa_records
        """;

    // best_transport only ever rises: it is the memory that lets the UI and TOFU spot a downgrade.
    private const string UpsertPeer = """
        insert into peers as p (next_hop, name, address, last_transport, last_how, last_reason, last_tls_version, last_tls_cipher,
                           last_spki_sha256, best_transport, last_tlsa_status, last_tlsa_records,
                           attempts_cleartext, attempts_encrypted, attempts_trusted, attempts_verified)
        values (@next_hop, @name, @address, @transport, @how, @reason, @tls_version, @tls_cipher, @spki, @transport,
                @tlsa_status, @tlsa,
                (@transport = 'cleartext')::int, (@transport = 'encrypted')::int, (@transport = 'trusted')::int, (@transport = 'verified')::int)
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
            attempts_verified = p.attempts_verified + excluded.attempts_verified
        """;

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
    }

    private static void Text(NpgsqlParameterCollection parameters, string name, string? value) => AttemptStore.AddText(parameters, name, value);
}
