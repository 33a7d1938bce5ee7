using Relay.Db;

namespace Relay.Delivery.Bounces;

/// <summary>
/// Enqueues DSNs through Relay.Db with the null sender (RFC 5321 §4.5.5). Never bounces a message
/// whose own sender was null: that is how bounce loops start. NOTIFY is honoured per recipient:
/// NEVER sends nothing, an explicit list without FAILURE sends no failure notice (RFC 3461 §4.1).
/// </summary>
public sealed class BounceSender(RelayDatabase database, DeliveryOptions options)
{
    /// <summary>Returns the DSN's queue id, or null when no DSN was due.</summary>
    public async Task<string?> SendAsync(QueuedMessage original, IReadOnlyList<(ClaimedRecipient Recipient, DsnRecipient Report)> recipients,
        CancellationToken cancellationToken)
    {
        if (original.Sender.Length == 0) return null;
        var due = recipients.Where(r => Wants(r.Recipient.DsnNotify, r.Report.Action)).Select(r => r.Report).ToList();
        if (due.Count == 0) return null;
        var body = DsnBuilder.Build(options.Hostname, original, due, options.MaxReturnedMessageBytes, DateTimeOffset.UtcNow);
        var eightBit = Smtp.Client.DataEncoder.HasEightBit(body);
        var message = new NewMessage(
            Sender: "",
            Body: body,
            ClientAddress: "local",
            ClientHelo: options.Hostname,
            Inbound: InboundSecurity.Cleartext,
            BodyType: eightBit ? "8BITMIME" : "7BIT",
            SmtpUtf8: original.SmtpUtf8 && !original.Sender.All(char.IsAscii));
        return await database.Queue.EnqueueAsync(message, [new NewRecipient(original.Sender, DsnNotify: "NEVER")], cancellationToken)
            .ConfigureAwait(false);
    }

    private static bool Wants(string? notify, string action)
    {
        if (notify is null) return action is "failed" or "delayed";
        var words = notify.ToUpperInvariant().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (words.Contains("NEVER")) return false;
        return action switch
        {
            "failed" => words.Contains("FAILURE"),
            "delayed" => words.Contains("DELAY"),
            "delivered" or "relayed" => words.Contains("SUCCESS"),
            _ => false,
        };
    }
}
