using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>
/// The sent-report ledger (tlsrpt_reports) and the enqueueing of report messages. The ledger's primary key (domain, day)
/// is the lock: of any number of processes on one database, the one whose insert wins sends; a claim left without sent_at
/// for longer than the takeover age belongs to a process that died and may be taken over.
/// </summary>
public sealed class TlsRptStore(NpgsqlDataSource dataSource)
{
    /// <summary>True when <paramref name="owner"/> now holds the claim to send this report.</summary>
    public async Task<bool> TryClaimAsync(string domain, DateOnly day, string reportId, string owner, TimeSpan takeoverAfter, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            insert into tlsrpt_reports as t (domain, day, report_id, claimed_by) values (@domain, @day, @report_id, @owner)
            on conflict (domain, day) do update set claimed_by = excluded.claimed_by, claimed_at = now(), report_id = excluded.report_id
             where t.sent_at is null and t.claimed_at < now() - @takeover
            returning claimed_by
            """, connection);
        command.Parameters.AddWithValue("domain", domain);
        command.Parameters.AddWithValue("day", day);
        command.Parameters.AddWithValue("report_id", reportId);
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("takeover", NpgsqlDbType.Interval, takeoverAfter);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string;
    }

    /// <summary>Forgets a claim whose report went nowhere, so a later round tries again.</summary>
    public async Task ReleaseAsync(string domain, DateOnly day, string owner, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "delete from tlsrpt_reports where domain = @domain and day = @day and claimed_by = @owner and sent_at is null", connection);
        command.Parameters.AddWithValue("domain", domain);
        command.Parameters.AddWithValue("day", day);
        command.Parameters.AddWithValue("owner", owner);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task CompleteAsync(string domain, DateOnly day, string owner, IReadOnlyList<string> destinations, string outcome, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            update tlsrpt_reports set sent_at = now(), destinations = @destinations, outcome = @outcome
             where domain = @domain and day = @day and claimed_by = @owner
            """, connection);
        command.Parameters.AddWithValue("domain", domain);
        command.Parameters.AddWithValue("day", day);
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("destinations", destinations.ToArray());
        command.Parameters.AddWithValue("outcome", outcome);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>When the report of that domain and day was sent; null when it was not (or is still being sent).</summary>
    public async Task<DateTimeOffset?> SentAtAsync(string domain, DateOnly day, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("select sent_at from tlsrpt_reports where domain = @domain and day = @day", connection);
        command.Parameters.AddWithValue("domain", domain);
        command.Parameters.AddWithValue("day", day);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime sent
            ? new DateTimeOffset(DateTime.SpecifyKind(sent, DateTimeKind.Utc)) : null;
    }

    /// <summary>
    /// Enqueues a report message, marked (messages.tlsrpt_report) so the attempts that carry it are never reported; one
    /// transaction with its recipients, and a NOTIFY that wakes delivery. Returns the queue id.
    /// </summary>
    public async Task<string> EnqueueReportAsync(NewMessage message, IReadOnlyList<NewRecipient> recipients, CancellationToken cancellationToken)
    {
        if (recipients.Count == 0) throw new ArgumentException("a report needs a recipient", nameof(recipients));
        var queueId = QueueId.New(DateTimeOffset.UtcNow);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var insert = new NpgsqlCommand("""
            with m as (
                insert into messages (queue_id, sender, size, body, body_type, client_address, client_helo, inbound_transport, tlsrpt_report)
                values (@queue_id, @sender, @size, @body, @body_type, @client_address, @client_helo, @transport, true)
                returning id)
            insert into recipients (message_id, address, next_hop, dsn_notify)
            select m.id, r.address, r.next_hop, r.notify from m, unnest(@addresses, @hops, @notify) as r(address, next_hop, notify)
            """, connection, transaction))
        {
            var p = insert.Parameters;
            p.AddWithValue("queue_id", queueId);
            p.AddWithValue("sender", message.Sender);
            p.AddWithValue("size", (long)message.Body.Length);
            p.AddWithValue("body", message.Body.ToArray());
            p.AddWithValue("body_type", message.BodyType);
            p.AddWithValue("client_address", message.ClientAddress);
            AttemptStore.AddText(p, "client_helo", message.ClientHelo);
            p.AddWithValue("transport", message.Inbound.Transport);
            p.AddWithValue("addresses", recipients.Select(r => r.Address).ToArray());
            p.AddWithValue("hops", recipients.Select(r => r.NextHop).ToArray());
            p.AddWithValue("notify", NpgsqlDbType.Array | NpgsqlDbType.Text, recipients.Select(r => r.DsnNotify).ToArray());
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using (var notify = new NpgsqlCommand($"notify {RelayDatabase.QueueChannel}", connection, transaction))
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return queueId;
    }
}
