using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>
/// Records one attempt: the attempt row, each recipient's result, the recipients' new states and the
/// peer's history, all in one transaction so the web UI never sees a delivery without its outcome.
/// </summary>
public sealed class AttemptStore(NpgsqlDataSource dataSource)
{
    public async Task<long> RecordAsync(AttemptRecord attempt, IReadOnlyList<RecipientOutcome> outcomes, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var sync = new NpgsqlCommand("set local synchronous_commit = on", connection, transaction))
            await sync.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        var attemptId = await InsertAttemptAsync(connection, transaction, attempt, cancellationToken).ConfigureAwait(false);
        foreach (var outcome in outcomes)
            await RecordRecipientAsync(connection, transaction, attemptId, outcome, cancellationToken).ConfigureAwait(false);
        if (attempt.PeerName is not null && attempt.PeerAddress is not null)
        {
            await UpsertPeerAsync(connection, transaction, attempt, cancellationToken).ConfigureAwait(false);
            await PeerHistoryStore.RecordAsync(connection, transaction, attemptId, attempt, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return attemptId;
    }

    /// <summary>
    /// Records an attempt with one peer that ended before any recipient got a final answer (refused, 5xx
    /// greeting, TLS demanded but impossible) while delivery moves on to the next peer: the attempt is linked
    /// to the recipients as 'deferred' so `relay queue show` lists it, but their state and lease stay as they
    /// are, because the same delivery is still running.
    /// </summary>
    public async Task<long> RecordPassedOnAsync(AttemptRecord attempt, IReadOnlyList<long> recipientIds, string? reply, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var attemptId = await InsertAttemptAsync(connection, transaction, attempt, cancellationToken).ConfigureAwait(false);
        await using (var link = new NpgsqlCommand("""
            insert into attempt_recipients (attempt_id, recipient_id, result, reply)
            select @attempt_id, r, 'deferred', @reply from unnest(@ids) as r
            """, connection, transaction))
        {
            link.Parameters.AddWithValue("attempt_id", attemptId);
            link.Parameters.AddWithValue("ids", recipientIds.ToArray());
            AddText(link.Parameters, "reply", reply);
            await link.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        if (attempt.PeerName is not null && attempt.PeerAddress is not null)
        {
            await UpsertPeerAsync(connection, transaction, attempt, cancellationToken).ConfigureAwait(false);
            await PeerHistoryStore.RecordAsync(connection, transaction, attemptId, attempt, cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return attemptId;
    }

    private static async Task<long> InsertAttemptAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AttemptRecord a, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            insert into delivery_attempts (next_hop, peer_name, peer_address, peer_port, started_at, duration_ms, stage, reply,
                policy_level, transport, how, reason, tls_version, tls_cipher, peer_spki_sha256, peer_cert_subject,
                peer_cert_chain, tlsa_records, tlsa_status, mx_dnssec, address_dnssec, network, network_reason, result_type,
                tlsrpt_policy_type, tlsrpt_policy_strings, tlsrpt_mx_hosts, tlsrpt_sending_ip, tlsrpt_receiving_helo)
            values (@next_hop, @peer_name, @peer_address, @peer_port, @started_at, @duration_ms, @stage, @reply,
                @policy_level, @transport, @how, @reason, @tls_version, @tls_cipher, @spki, @subject,
                @chain, @tlsa, @tlsa_status, @mx_dnssec, @address_dnssec, @network, @network_reason, @result_type,
                @tlsrpt_policy_type, @tlsrpt_policy_strings, @tlsrpt_mx_hosts, @tlsrpt_sending_ip, @tlsrpt_receiving_helo)
            returning id
            """, connection, transaction);
        var p = command.Parameters;
        p.AddWithValue("next_hop", a.NextHop);
        AddText(p, "peer_name", a.PeerName);
        AddText(p, "peer_address", a.PeerAddress);
        p.AddWithValue("peer_port", NpgsqlDbType.Integer, (object?)a.PeerPort ?? DBNull.Value);
        p.AddWithValue("started_at", a.StartedAt);
        p.AddWithValue("duration_ms", (int)Math.Min(int.MaxValue, Math.Max(0, a.Duration.TotalMilliseconds)));
        p.AddWithValue("stage", a.Stage);
        AddText(p, "reply", a.Reply);
        p.AddWithValue("policy_level", a.PolicyLevel);
        AddOutcome(p, a);
        AddText(p, "subject", a.PeerCertSubject);
        AddText(p, "chain", a.PeerCertChain);
        AddText(p, "mx_dnssec", a.MxDnssec);
        AddText(p, "address_dnssec", a.AddressDnssec);
        p.AddWithValue("network", a.Network);
        AddText(p, "network_reason", a.NetworkReason);
        AddText(p, "result_type", a.ResultType);
        AddText(p, "tlsrpt_policy_type", a.TlsRpt?.PolicyType);
        p.AddWithValue("tlsrpt_policy_strings", (a.TlsRpt?.PolicyStrings ?? []).ToArray());
        p.AddWithValue("tlsrpt_mx_hosts", (a.TlsRpt?.MxHosts ?? []).ToArray());
        AddText(p, "tlsrpt_sending_ip", a.TlsRpt?.SendingIp);
        AddText(p, "tlsrpt_receiving_helo", a.TlsRpt?.ReceivingHelo);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task RecordRecipientAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long attemptId,
        RecipientOutcome outcome, CancellationToken cancellationToken)
    {
        var result = RecipientResults.ToWire(outcome.Result);
        await using var command = new NpgsqlCommand("""
            with link as (
                insert into attempt_recipients (attempt_id, recipient_id, result, reply)
                values (@attempt_id, @recipient_id, @result, @reply)
            )
            update recipients
               set state = @result, attempts = attempts + 1, last_attempt_at = now(), last_result = @reply,
                   next_attempt_at = coalesce(@next_attempt_at, next_attempt_at),
                   lease_owner = null, lease_expires_at = null, updated_at = now()
             where id = @recipient_id
               and state not in ('delivered', 'bounced')   -- a final state is never undone
            """, connection, transaction);
        command.Parameters.AddWithValue("attempt_id", attemptId);
        command.Parameters.AddWithValue("recipient_id", outcome.RecipientId);
        command.Parameters.AddWithValue("result", result);
        AddText(command.Parameters, "reply", outcome.Reply);
        command.Parameters.AddWithValue("next_attempt_at", NpgsqlDbType.TimestampTz, (object?)outcome.NextAttemptAt ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task UpsertPeerAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AttemptRecord a, CancellationToken cancellationToken)
    {
        // An attempt that sent nothing says nothing about the transport the peer gives mail: it only marks the peer as
        // seen (a new peer then has no transport yet). best_transport only ever rises: it is the memory that lets the
        // UI and TOFU spot a downgrade.
        await using var command = new NpgsqlCommand(a.Transport is null ? """
            insert into peers as p (next_hop, name, address, last_how, last_tlsa_status, last_tlsa_records)
            values (@next_hop, @name, @address, 'none', @tlsa_status, @tlsa)
            on conflict (name, address) do update set
                next_hop = excluded.next_hop,
                last_seen = now(),
                last_tlsa_status = coalesce(excluded.last_tlsa_status, p.last_tlsa_status),
                last_tlsa_records = excluded.last_tlsa_records
            """ : """
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
            """, connection, transaction);
        var p = command.Parameters;
        p.AddWithValue("next_hop", a.NextHop);
        p.AddWithValue("name", a.PeerName!);
        p.AddWithValue("address", a.PeerAddress!);
        AddOutcome(p, a);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The outcome columns the attempt row and the peer row share, under the same parameter names.</summary>
    private static void AddOutcome(NpgsqlParameterCollection p, AttemptRecord a)
    {
        AddText(p, "transport", a.Transport);
        p.AddWithValue("how", a.How);
        AddText(p, "reason", a.Reason);
        AddText(p, "tls_version", a.TlsVersion);
        AddText(p, "tls_cipher", a.TlsCipher);
        AddText(p, "spki", a.PeerSpkiSha256);
        AddText(p, "tlsa_status", a.TlsaStatus);
        p.AddWithValue("tlsa", (a.TlsaRecords ?? []).ToArray());
    }

    internal static void AddText(NpgsqlParameterCollection parameters, string name, string? value) =>
        parameters.AddWithValue(name, NpgsqlDbType.Text, (object?)value ?? DBNull.Value);
}
