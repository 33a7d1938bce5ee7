using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>
/// The sent-report ledger (tlsrpt_reports) and the enqueueing of report messages. The ledger's primary key (domain, day)
/// is the lock: of any number of processes on one database, the one whose insert wins sends; a claim left without sent_at
/// for longer than the takeover age belongs to a process that died and may be taken over. `mailto:` reports are enqueued
/// in the transaction that marks the row sent (exactly once); an `https:` POST cannot join a database transaction, so it is
/// at most once per claim: a crash after the POST and before the mark lets a takeover POST it again, with the same report-id.
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

    /// <summary>
    /// Marks the claimed report sent and enqueues its `mailto:` messages in ONE transaction, so no crash can leave a report
    /// queued but unmarked (which a takeover would queue again) or marked but not queued. The mark is conditional on the
    /// claim still being <paramref name="owner"/>'s and unsent: a process that lost its claim (taken over after the timeout)
    /// enqueues nothing and gets null. Returns the queue ids, in the order of <paramref name="mails"/>.
    /// </summary>
    /// <param name="outcome">The ledger's outcome text, given the queue ids (they exist only inside the transaction).</param>
    public async Task<IReadOnlyList<string>?> CompleteAsync(string domain, DateOnly day, string owner, IReadOnlyList<ReportMail> mails,
        IReadOnlyList<string> destinations, Func<IReadOnlyList<string>, string> outcome, CancellationToken cancellationToken)
    {
        var queueIds = mails.Select(_ => QueueId.New(DateTimeOffset.UtcNow)).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // The update first: it locks the ledger row, so a takeover that starts now waits for this commit and then sees sent_at.
        await using (var mark = new NpgsqlCommand("""
            update tlsrpt_reports set sent_at = now(), destinations = @destinations, outcome = @outcome
             where domain = @domain and day = @day and claimed_by = @owner and sent_at is null
            """, connection, transaction))
        {
            mark.Parameters.AddWithValue("domain", domain);
            mark.Parameters.AddWithValue("day", day);
            mark.Parameters.AddWithValue("owner", owner);
            mark.Parameters.AddWithValue("destinations", destinations.ToArray());
            mark.Parameters.AddWithValue("outcome", outcome(queueIds));
            if (await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return null;
            }
        }
        for (var i = 0; i < mails.Count; i++)
            await InsertReportAsync(connection, transaction, queueIds[i], mails[i].Message, mails[i].Recipients, cancellationToken).ConfigureAwait(false);
        if (mails.Count > 0)
            await using (var notify = new NpgsqlCommand($"notify {RelayDatabase.QueueChannel}", connection, transaction))
                await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return queueIds;
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
    /// One report message, marked (messages.tlsrpt_report) so the attempts that carry it are never reported, inserted with its
    /// recipients inside the caller's transaction.
    /// </summary>
    private static async Task InsertReportAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string queueId, NewMessage message,
        IReadOnlyList<NewRecipient> recipients, CancellationToken cancellationToken)
    {
        if (recipients.Count == 0) throw new ArgumentException("a report needs a recipient", nameof(recipients));
        await using var insert = new NpgsqlCommand("""
            with m as (
                insert into messages (queue_id, sender, size, body, body_type, client_address, client_helo, inbound_transport, tlsrpt_report)
                values (@queue_id, @sender, @size, @body, @body_type, @client_address, @client_helo, @transport, true)
                returning id)
            insert into recipients (message_id, address, next_hop, dsn_notify)
            select m.id, r.address, r.next_hop, r.notify from m, unnest(@addresses, @hops, @notify) as r(address, next_hop, notify)
            """, connection, transaction);
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
}

/// <summary>A composed report message and who it goes to (a `mailto:` rua).</summary>
public sealed record ReportMail(NewMessage Message, IReadOnlyList<NewRecipient> Recipients);
