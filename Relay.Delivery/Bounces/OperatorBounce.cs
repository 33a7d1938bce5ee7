using Relay.Db;

namespace Relay.Delivery.Bounces;

/// <summary>The result of `relay queue bounce`: how many recipients were given up, and the DSN sent for them.</summary>
public sealed record OperatorBounceResult(int Bounced, string? DsnQueueId);

/// <summary>
/// `relay queue bounce ID`: every waiting or held recipient becomes bounced and the sender gets one DSN
/// (status 5.0.0, unless the message had the null sender or NOTIFY says otherwise), exactly as if delivery
/// had failed permanently.
/// </summary>
public static class OperatorBounce
{
    /// <returns>null when the queue id is unknown.</returns>
    public static async Task<OperatorBounceResult?> BounceAsync(RelayDatabase database, string reportingMta, string queueId,
        CancellationToken cancellationToken)
    {
        var detail = await database.QueueReader.GetMessageAsync(queueId, cancellationToken).ConfigureAwait(false);
        var message = await database.Queue.LoadMessageAsync(queueId, cancellationToken).ConfigureAwait(false);
        if (detail is null || message is null) return null;
        var waiting = detail.Recipients.Where(r => r.State is "queued" or "deferred" or "held").ToList();
        if (waiting.Count == 0) return new OperatorBounceResult(0, null);

        const string text = "5.0.0 bounced by the operator";
        var reports = waiting.Select(r => (
            new ClaimedRecipient(r.Id, message.Id, message.QueueId, r.Address, NextHop(r.Address), r.Attempts, r.DsnNotify, r.DsnOrcpt,
                message.ReceivedAt, DateTimeOffset.UtcNow),
            new DsnRecipient(r.Address, r.DsnOrcpt, "failed", "5.0.0", null, text))).ToList();
        // DSN first: a crash in between sends it twice rather than never.
        var dsn = await new BounceSender(database, new DeliveryOptions { Hostname = reportingMta })
            .SendAsync(message, reports, cancellationToken).ConfigureAwait(false);
        var bounced = await database.Admin.BounceAsync(queueId, cancellationToken).ConfigureAwait(false);
        return new OperatorBounceResult(bounced, dsn);
    }

    private static string NextHop(string address)
    {
        var at = address.LastIndexOf('@');
        return (at < 0 ? address : address[(at + 1)..]).ToLowerInvariant();
    }
}
