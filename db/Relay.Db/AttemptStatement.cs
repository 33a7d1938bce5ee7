using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>What one attempt writes: its row, its recipients' results (and, unless passed on, their new states), the peer.</summary>
internal sealed record AttemptWrite(AttemptRecord Attempt, IReadOnlyList<RecipientOutcome> Outcomes, bool PassedOn)
{
    /// <summary>The peer row the attempt updates (null: none); <see cref="PeerHistoryStatement"/> writes it, once per batch.</summary>
    public string? PeerKey => Attempt.PeerName is not null && Attempt.PeerAddress is not null ? $"{Attempt.PeerName}\n{Attempt.PeerAddress}" : null;
}

/// <summary>
/// One attempt as ONE statement (data-modifying CTEs, which PostgreSQL runs exactly once each, on one snapshot): the
/// attempt row, the attempt_recipients links and the recipients' states, returning the attempt's id. So an attempt costs
/// one statement in a batch, not one round trip per row. The peer row is the batch's <see cref="PeerHistoryStatement"/>.
/// </summary>
internal static class AttemptStatement
{
    public static NpgsqlBatchCommand For(AttemptWrite write)
    {
        var a = write.Attempt;
        var command = new NpgsqlBatchCommand($"""
            with attempt as ({InsertAttempt}),
            link as (
                insert into attempt_recipients (attempt_id, recipient_id, result, reply)
                select attempt.id, o.recipient_id, o.result, o.reply
                from attempt, unnest(@r_ids, @r_results, @r_replies) with ordinality as o(recipient_id, result, reply, n)
                order by o.n
            ){(write.PassedOn ? "" : $",\nstates as ({UpdateStates})")}
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

    // A final state is never undone; the lease ends with the attempt that used it. `r.id = any(@r_ids)` repeats the join
    // as an index condition: without it, a generic plan made while the queue was small and the statistics said almost
    // nothing was still queued joined the ids with a full scan of recipients' primary key, and kept doing so at 20,000
    // rows (9.7 ms per record instead of 0.1: bench/pg-profile.sh with ROUNDS=3; PoolDefaultsTests).
    private const string UpdateStates = """
        update recipients r
           set state = o.result, attempts = r.attempts + 1, last_attempt_at = now(), last_result = o.reply,
               next_attempt_at = coalesce(o.next_at, r.next_attempt_at),
               lease_owner = null, lease_expires_at = null, updated_at = now()
          from unnest(@r_ids, @r_results, @r_replies, @r_next) as o(recipient_id, result, reply, next_at)
         where r.id = o.recipient_id
           and r.id = any(@r_ids)
           and r.state not in ('delivered', 'bounced')
        """;

    /// <summary>The attempt row's columns.</summary>
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
