using System.Text;
using Relay.Db;
using Relay.Smtp.Client;

namespace Relay.Delivery.Sessions;

/// <summary>One recipient's result in one transaction, with what a DSN needs.</summary>
public sealed record RecipientVerdict(ClaimedRecipient Recipient, RecipientResult Result, string Reply, string Status);

/// <summary>The outcome of one MAIL…DATA transaction. <see cref="SessionUsable"/> is false when the connection is gone.</summary>
public sealed record TransactionResult(string Stage, string Reply, IReadOnlyList<RecipientVerdict> Recipients, bool SessionUsable);

/// <summary>
/// MAIL, RCPT (pipelined when offered), DATA for one message over an established session.
/// 2xx delivered, 4xx deferred, 5xx bounced, per recipient; 5xx at MAIL bounces every recipient; a
/// 4xx at DATA or end of data, or a dropped connection, defers every recipient of the transaction.
/// 8-bit and SMTPUTF8 messages never go to a peer that did not announce the extension.
/// </summary>
public static class MessageTransaction
{
    public static async Task<TransactionResult> RunAsync(EstablishedSession session, QueuedMessage message,
        IReadOnlyList<ClaimedRecipient> recipients, CancellationToken cancellationToken)
    {
        var client = session.Client;
        var caps = client.Capabilities;
        var eightBit = DataEncoder.HasEightBit(message.Body);
        if (eightBit && !caps.EightBitMime)
            return Local(recipients, ClientStage.Mail, "554 5.6.3 message has 8-bit content and the peer does not support 8BITMIME", "5.6.3");
        // RFC 6531: internationalised addresses or UTF-8 header fields need SMTPUTF8 at the peer; an 8-bit body alone does not.
        var needsUtf8 = message.SmtpUtf8 && (!Ascii(message.Sender) || recipients.Any(r => !Ascii(r.Address))
                                             || DataEncoder.HasEightBit(Bounces.DsnBuilder.Headers(message.Body)));
        if (needsUtf8 && !caps.SmtpUtf8)
            return Local(recipients, ClientStage.Mail, "553 5.6.7 internationalised address and the peer does not support SMTPUTF8", "5.6.7");
        if (caps.MaxSize is { } max && message.Body.Length > max)
            return Local(recipients, ClientStage.Mail, $"552 5.3.4 message size {message.Body.Length} exceeds the peer's SIZE limit {max}", "5.3.4");

        var mail = new StringBuilder($"MAIL FROM:<{message.Sender}>");
        if (caps.AnnouncesSize) mail.Append(" SIZE=").Append(message.Body.Length);
        if (eightBit || message.BodyType == "8BITMIME") { if (caps.EightBitMime) mail.Append(" BODY=8BITMIME"); }
        if (message.SmtpUtf8 && caps.SmtpUtf8) mail.Append(" SMTPUTF8");
        if (message.RequireTls && caps.RequireTls && client.Tls is not null) mail.Append(" REQUIRETLS");
        if (caps.Dsn)
        {
            if (message.DsnRet is { } ret) mail.Append(" RET=").Append(ret);
            if (message.DsnEnvid is { } envid) mail.Append(" ENVID=").Append(envid);
        }
        var rcpts = recipients.Select(r =>
        {
            var command = new StringBuilder($"RCPT TO:<{r.Address}>");
            if (caps.Dsn && r.DsnNotify is { } notify) command.Append(" NOTIFY=").Append(notify);
            if (caps.Dsn && r.DsnOrcpt is { } orcpt) command.Append(" ORCPT=").Append(orcpt);
            return command.ToString();
        }).ToList();

        var stage = ClientStage.Mail;
        var results = new List<RecipientVerdict>(recipients.Count);
        try
        {
            var (mailReply, rcptReplies) = await client.EnvelopeAsync(mail.ToString(), rcpts, cancellationToken).ConfigureAwait(false);
            if (!mailReply.IsPositive)
            {
                var reset = await TryRsetAsync(client, cancellationToken).ConfigureAwait(false);
                var result = mailReply.IsPermanent ? RecipientResult.Bounced : RecipientResult.Deferred;
                return new TransactionResult(ClientStage.Mail, mailReply.ToString(),
                    recipients.Select(r => new RecipientVerdict(r, result, mailReply.ToString(), StatusOf(mailReply))).ToList(), reset);
            }
            stage = ClientStage.Rcpt;
            var accepted = new List<ClaimedRecipient>();
            for (var i = 0; i < recipients.Count; i++)
            {
                var reply = rcptReplies[i];
                if (reply.IsPositive) accepted.Add(recipients[i]);
                else results.Add(new RecipientVerdict(recipients[i], reply.IsPermanent ? RecipientResult.Bounced : RecipientResult.Deferred,
                    reply.ToString(), StatusOf(reply)));
            }
            if (accepted.Count == 0)
            {
                var reset = await TryRsetAsync(client, cancellationToken).ConfigureAwait(false);
                return new TransactionResult(ClientStage.Rcpt, results[^1].Reply, results, reset);
            }

            var (dataReply, dataStage) = await client.DataAsync(DataEncoder.Encode(message.Body), cancellationToken).ConfigureAwait(false);
            stage = dataStage;
            var final = dataReply.Code / 100 == 2 ? RecipientResult.Delivered
                : dataReply.IsPermanent ? RecipientResult.Bounced : RecipientResult.Deferred;
            results.AddRange(accepted.Select(r => new RecipientVerdict(r, final, dataReply.ToString(), StatusOf(dataReply))));
            var usable = dataReply.Code != 421;
            // After the dot the transaction is over either way (RFC 5321 §4.1.1.4); a refused DATA command leaves it open.
            if (final != RecipientResult.Delivered && dataStage == ClientStage.Data && usable)
                usable = await TryRsetAsync(client, cancellationToken).ConfigureAwait(false);
            return new TransactionResult(dataStage, dataReply.ToString(), Ordered(recipients, results), usable);
        }
        catch (ArgumentException e) when (stage == ClientStage.Mail)
        {
            // A CR or LF inside an address: refused before that command was sent; RSET clears a MAIL already sent.
            var reset = await TryRsetAsync(client, cancellationToken).ConfigureAwait(false);
            return Local(recipients, ClientStage.Mail, $"553 5.1.3 cannot send this envelope: {e.Message}", "5.1.3", reset);
        }
        catch (SmtpClientException e)
        {
            // Lost mid-transaction: whatever was not final is deferred. After the dot this is the RFC 1047
            // window: the peer may have the message, and we will send it again.
            var done = results.Select(r => r.Recipient.RecipientId).ToHashSet();
            results.AddRange(recipients.Where(r => !done.Contains(r.RecipientId))
                .Select(r => new RecipientVerdict(r, RecipientResult.Deferred, $"{e.Stage}: {e.Message}", "4.4.2")));
            return new TransactionResult(e.Stage, e.Message, Ordered(recipients, results), false);
        }
    }

    private static TransactionResult Local(IReadOnlyList<ClaimedRecipient> recipients, string stage, string text, string status, bool usable = true) =>
        new(stage, text, recipients.Select(r => new RecipientVerdict(r, RecipientResult.Bounced, text, status)).ToList(), usable);

    private static IReadOnlyList<RecipientVerdict> Ordered(IReadOnlyList<ClaimedRecipient> recipients, List<RecipientVerdict> results) =>
        recipients.Select(r => results.First(v => v.Recipient.RecipientId == r.RecipientId)).ToList();

    internal static string StatusOf(ServerReply reply) => reply.EnhancedStatus ?? $"{reply.Class}.0.0";

    private static bool Ascii(string text) => text.All(char.IsAscii);

    /// <summary>RSET after a failed transaction; false when the session cannot be trusted to be clean for the next MAIL.</summary>
    private static async Task<bool> TryRsetAsync(SmtpClientSession client, CancellationToken cancellationToken)
    {
        try { return (await client.RsetAsync(cancellationToken).ConfigureAwait(false)).Code == 250; }
        catch (SmtpClientException) { return false; }
    }
}
