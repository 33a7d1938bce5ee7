using System.Text;
using Relay.Db;
using Relay.Policy.Classification;
using Relay.Smtp.Client;

namespace Relay.Delivery.Sessions;

/// <summary>
/// One MAIL…DATA transaction: the session's report extended with what this transaction saw (each recipient's final
/// reply, whether MAIL FROM was accepted), and the last reply for the attempt row. <see cref="SessionUsable"/> is
/// false when the connection is gone or cannot be trusted to be clean for the next MAIL.
/// </summary>
public sealed record TransactionResult(AttemptReport Report, string Reply, bool SessionUsable)
{
    /// <summary>The session ended before the peer took MAIL: no reply at all, or 421 to MAIL. Nothing was accepted, so a
    /// session reused without a probe may hand the message to a fresh one instead of recording an attempt.</summary>
    public bool ClosedBeforeMail { get; init; }
}

/// <summary>
/// MAIL, RCPT and DATA (one pipelined group when offered) for one message over an established session. It records the reply that
/// ends each recipient's part: its RCPT reply when negative, else the reply to the end of data; MAIL's reply for every
/// recipient when MAIL is refused; none when the connection was lost first. Relay.Policy's classifier turns those into
/// fates. 8-bit and SMTPUTF8 messages never go to a peer that did not announce the extension (our own 5xx, not sent).
/// </summary>
public static class MessageTransaction
{
    public static async Task<TransactionResult> RunAsync(EstablishedSession session, QueuedMessage message,
        IReadOnlyList<ClaimedRecipient> recipients, CancellationToken cancellationToken)
    {
        var client = session.Client;
        var caps = client.Capabilities;
        var report = session.Report with { Stage = ClientStage.Mail };
        var eightBit = DataEncoder.HasEightBit(message.Body);
        if (eightBit && !caps.EightBitMime)
            return Local(report, recipients, 554, "5.6.3", "message has 8-bit content and the peer does not support 8BITMIME");
        // RFC 6531: internationalised addresses or UTF-8 header fields need SMTPUTF8 at the peer; an 8-bit body alone does not.
        var needsUtf8 = message.SmtpUtf8 && (!Ascii(message.Sender) || recipients.Any(r => !Ascii(r.Address))
                                             || DataEncoder.HasEightBit(Bounces.DsnBuilder.Headers(message.Body)));
        if (needsUtf8 && !caps.SmtpUtf8)
            return Local(report, recipients, 553, "5.6.7", "internationalised address and the peer does not support SMTPUTF8");
        if (caps.MaxSize is { } max && message.Body.Length > max)
            return Local(report, recipients, 552, "5.3.4", $"message size {message.Body.Length} exceeds the peer's SIZE limit {max}");

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

        var replies = new RecipientReply?[recipients.Count];
        try
        {
            // With PIPELINING, DATA ends the envelope's group (RFC 2920 §3.1): one round trip fewer per message.
            var (mailReply, rcptReplies, dataCommandReply) =
                await client.EnvelopeAsync(mail.ToString(), rcpts, cancellationToken, withData: caps.Pipelining).ConfigureAwait(false);
            if (!mailReply.IsPositive)
            {
                var reset = await TryAbandonAsync(client, dataCommandReply, cancellationToken).ConfigureAwait(false);
                return new TransactionResult(report with { Recipients = recipients.Select(r => RecipientReply.From(r.Address, mailReply)).ToArray() },
                    mailReply.ToString(), reset) { ClosedBeforeMail = mailReply.Code == 421 };
            }
            report = report with { Stage = ClientStage.Rcpt, MailAccepted = true };
            for (var i = 0; i < recipients.Count; i++)
                if (!rcptReplies[i].IsPositive) replies[i] = RecipientReply.From(recipients[i].Address, rcptReplies[i]);
            if (replies.All(r => r is not null))
            {
                var reset = await TryAbandonAsync(client, dataCommandReply, cancellationToken).ConfigureAwait(false);
                return new TransactionResult(report with { Recipients = replies! }, replies[^1]!.Text!, reset);
            }

            var body = DataEncoder.Encode(message.Body);
            var (dataReply, dataStage) = dataCommandReply switch
            {
                null => await client.DataAsync(body, cancellationToken).ConfigureAwait(false),
                { Code: 354 } => (await client.SendBodyAsync(body, cancellationToken).ConfigureAwait(false), ClientStage.Dot),
                _ => (dataCommandReply, ClientStage.Data),
            };
            report = report with { Stage = dataStage };
            for (var i = 0; i < recipients.Count; i++)
                replies[i] ??= RecipientReply.From(recipients[i].Address, dataReply);
            var usable = dataReply.Code != 421;
            // After the dot the transaction is over either way (RFC 5321 §4.1.1.4); a refused DATA command leaves it open.
            if (dataReply.Code / 100 != 2 && dataStage == ClientStage.Data && usable)
                usable = await TryRsetAsync(client, cancellationToken).ConfigureAwait(false);
            return new TransactionResult(report with { Recipients = replies! }, dataReply.ToString(), usable);
        }
        catch (ArgumentException e) when (!report.MailAccepted)
        {
            // A CR or LF inside an address: refused before that command was sent; RSET clears a MAIL already sent.
            var reset = await TryRsetAsync(client, cancellationToken).ConfigureAwait(false);
            return Local(report, recipients, 553, "5.1.3", $"cannot send this envelope: {e.Message}", reset);
        }
        catch (SmtpClientException e)
        {
            // Lost mid-transaction: the recipients without a final reply have none. After the dot this is the RFC 1047
            // window: the peer may have the message, and it will be sent again.
            // With PIPELINING the MAIL reply may have been read before a RCPT reply broke the session.
            var lost = report with { Stage = e.Stage, Error = e.Message, MailAccepted = report.MailAccepted || client.MailReply is { IsPositive: true } };
            return new TransactionResult(lost with
            {
                Recipients = recipients.Select((r, i) => replies[i] ?? new RecipientReply(r.Address, null)).ToArray(),
            }, $"{e.Stage.ToWire()}: {e.Message}", false) { ClosedBeforeMail = client.MailReply is null };
        }
    }

    /// <summary>Relay's own refusal to send this message to this peer: every recipient gets our reply, nothing is sent.</summary>
    private static TransactionResult Local(AttemptReport report, IReadOnlyList<ClaimedRecipient> recipients, int code, string status, string text,
        bool usable = true)
    {
        var reply = $"{code} {status} {text}";
        return new TransactionResult(report with { Recipients = recipients.Select(r => new RecipientReply(r.Address, code, status, reply)).ToArray() },
            reply, usable);
    }

    private static bool Ascii(string text) => text.All(char.IsAscii);

    /// <summary>
    /// Ends a transaction that has nothing to send (MAIL or every RCPT refused): a pipelined DATA that got 354 anyway is
    /// ended with the lone dot (its reply is not a delivery), then RSET. False when the session cannot be trusted to be
    /// clean for the next MAIL.
    /// </summary>
    private static async Task<bool> TryAbandonAsync(SmtpClientSession client, ServerReply? dataCommandReply, CancellationToken cancellationToken)
    {
        if (dataCommandReply is { Code: 354 })
        {
            try
            {
                if ((await client.EndEmptyDataAsync(cancellationToken).ConfigureAwait(false)).Code == 421) return false;
            }
            catch (SmtpClientException) { return false; }
        }
        return await TryRsetAsync(client, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>RSET after a failed transaction; false when the session cannot be trusted to be clean for the next MAIL.</summary>
    private static async Task<bool> TryRsetAsync(SmtpClientSession client, CancellationToken cancellationToken)
    {
        try { return (await client.RsetAsync(cancellationToken).ConfigureAwait(false)).Code == 250; }
        catch (SmtpClientException) { return false; }
    }
}
