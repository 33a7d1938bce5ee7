using System.Text;
using MimeKit;
using MimeKit.Utils;
using Relay.Db;

namespace Relay.Delivery.Bounces;

/// <summary>One failed (or, with NOTIFY=SUCCESS, relayed) recipient for a DSN.</summary>
public sealed record DsnRecipient(string Address, string? OriginalRecipient, string Action, string Status, string? RemoteMta, string Diagnostic,
    DateTimeOffset? WillRetryUntil = null);

/// <summary>
/// Builds an RFC 3464 delivery status notification with MimeKit: multipart/report with a human part, a
/// message/delivery-status part (Reporting-MTA, Original-Envelope-Id, Arrival-Date, then per recipient
/// Original-Recipient, Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code, Last-Attempt-Date,
/// Will-Retry-Until) and the original message, or only its headers when RET=HDRS, the message demanded
/// REQUIRETLS, or it is larger than the limit (RFC 3461 §4.3). For an SMTPUTF8 message the parts are their
/// RFC 6533 forms: message/global-delivery-status with UTF-8 fields, message/global, message/global-headers.
/// The returned message is copied byte for byte: MimeKit composes the report, it never re-serialises what we relayed.
/// </summary>
public static class DsnBuilder
{
    public static byte[] Build(string reportingMta, QueuedMessage original, IReadOnlyList<DsnRecipient> recipients, int maxReturnedBytes,
        DateTimeOffset now)
    {
        var global = original.SmtpUtf8;
        var failed = recipients.Any(r => r.Action == "failed");
        var delayed = !failed && recipients.Any(r => r.Action == "delayed");

        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", $"MAILER-DAEMON@{reportingMta}"));
        message.To.Add(new MailboxAddress("", original.Sender));
        message.Subject = failed ? "Undelivered Mail Returned to Sender"
            : delayed ? "Delayed Mail (still being retried)"
            : "Successful Mail Delivery Report";
        message.Date = now;
        message.MessageId = $"{Guid.NewGuid():N}@{reportingMta}";
        message.Headers.Add("Auto-Submitted", "auto-replied");

        var report = new MultipartReport("delivery-status") { Notification(reportingMta, recipients, failed, delayed) };
        report.Add(Status(reportingMta, original, recipients, global, now));
        report.Add(Returned(original, maxReturnedBytes, global));
        message.Body = report;

        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        // The DSN travels with SMTPUTF8 exactly when its recipient (the original sender) needs it (BounceSender).
        format.International = !original.Sender.All(char.IsAscii);
        using var output = new MemoryStream();
        message.WriteTo(format, output);
        return output.ToArray();
    }

    /// <summary>The header section of a message: everything up to the first empty line.</summary>
    public static byte[] Headers(byte[] message)
    {
        var span = message.AsSpan();
        var end = span.IndexOf("\r\n\r\n"u8);
        return end < 0 ? message : span[..(end + 2)].ToArray();
    }

    private static TextPart Notification(string reportingMta, IReadOnlyList<DsnRecipient> recipients, bool failed, bool delayed)
    {
        var text = new StringBuilder();
        text.Append($"This is the mail system at host {reportingMta}.\r\n\r\n");
        text.Append(failed ? "Your message could not be delivered to one or more recipients. The mail system said:"
            : delayed ? "Your message has not been delivered yet and is still being retried; no action is needed. The mail system said:"
            : "Your message was delivered to the following recipients:");
        text.Append("\r\n\r\n");
        foreach (var r in recipients)
            text.Append($"<{DsnFields.WithoutControls(r.Address)}>: {DsnFields.WithoutControls(r.Diagnostic)}\r\n");
        var part = new TextPart("plain") { ContentDescription = "Notification" };
        var ascii = text.ToString().All(char.IsAscii);
        part.SetText(ascii ? "us-ascii" : "utf-8", text.ToString());
        part.ContentTransferEncoding = ascii ? ContentEncoding.SevenBit : ContentEncoding.QuotedPrintable;
        return part;
    }

    private static MessageDeliveryStatus Status(string reportingMta, QueuedMessage original, IReadOnlyList<DsnRecipient> recipients, bool global,
        DateTimeOffset now)
    {
        var status = new MessageDeliveryStatus { ContentDescription = "Delivery report" };
        if (global)
        {
            // RFC 6533 §3: the same fields, UTF-8 allowed; 8bit so no reader has to guess an encoding.
            status.ContentType.MediaSubtype = "global-delivery-status";
            status.ContentTransferEncoding = ContentEncoding.EightBit;
        }
        var perMessage = new HeaderList();
        Add(perMessage, "Reporting-MTA", "dns; " + reportingMta, global);
        if (original.DsnEnvid is { } envid) Add(perMessage, "Original-Envelope-Id", DsnFields.WithoutControls(envid), global);
        Add(perMessage, "X-Relay-Queue-ID", original.QueueId, global);
        Add(perMessage, "Arrival-Date", DateUtils.FormatDate(original.ReceivedAt.ToUniversalTime()), global);
        var groups = new List<HeaderList> { perMessage };
        foreach (var r in recipients)
        {
            var group = new HeaderList();
            if (r.OriginalRecipient is { } orcpt) Add(group, "Original-Recipient", DsnFields.OriginalRecipient(orcpt), global);
            Add(group, "Final-Recipient", DsnFields.Address(r.Address, global), global);
            Add(group, "Action", r.Action, global);
            Add(group, "Status", r.Status, global);
            if (r.RemoteMta is { } mta) Add(group, "Remote-MTA", "dns; " + DsnFields.WithoutControls(mta), global);
            Add(group, "Diagnostic-Code", "smtp; " + DsnFields.WithoutControls(r.Diagnostic), global);
            if (r.RemoteMta is not null) Add(group, "Last-Attempt-Date", DateUtils.FormatDate(now.ToUniversalTime()), global);
            if (r.WillRetryUntil is { } until) Add(group, "Will-Retry-Until", DateUtils.FormatDate(until.ToUniversalTime()), global);
            groups.Add(group);
        }
        status.Content = new MimeContent(new MemoryStream(GroupsContent(groups)), global ? ContentEncoding.EightBit : ContentEncoding.SevenBit);
        return status;
    }

    /// <summary>
    /// The groups separated by one empty line and nothing after the last: MessageDeliveryStatus.StatusGroups writes
    /// a trailing empty line, which its own parser (and a strict RFC 3464 reader) takes for an empty recipient group.
    /// </summary>
    private static byte[] GroupsContent(List<HeaderList> groups)
    {
        using var content = new MemoryStream();
        for (var i = 0; i < groups.Count; i++)
        {
            if (i > 0) content.Write("\r\n"u8);
            foreach (var header in groups[i])
            {
                content.Write(Encoding.ASCII.GetBytes(header.Field + ":"));
                content.Write(header.RawValue); // folded, with its CRLF (Add)
            }
        }
        return content.ToArray();
    }

    /// <summary>
    /// MimeKit folds the value; a non-ASCII value becomes RFC 2047 encoded words in a message/delivery-status part
    /// and stays UTF-8 in a message/global-delivery-status part.
    /// </summary>
    private static void Add(HeaderList list, string field, string value, bool global)
    {
        var header = new Header(Encoding.UTF8, field, value);
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.International = global;
        header.SetValue(options, Encoding.UTF8, value);
        list.Add(header);
    }

    private static MimeEntity Returned(QueuedMessage original, int maxReturnedBytes, bool global)
    {
        // A REQUIRETLS message is reported as if RET=HDRS (RFC 8689 §5): the DSN itself is not sent under REQUIRETLS,
        // so the body its sender wanted kept off unauthenticated links must not ride along in it.
        var headersOnly = original.DsnRet == "HDRS" || original.RequireTls || original.Body.Length > maxReturnedBytes;
        if (headersOnly)
        {
            var headers = Headers(original.Body);
            using var stream = new MemoryStream(headers.Concat("\r\n"u8.ToArray()).ToArray());
            var part = new TextRfc822Headers { Message = MimeMessage.Load(stream) };
            part.Headers.Add(HeaderId.ContentDescription, "Undelivered Message Headers");
            if (global)
            {
                part.ContentType.MediaType = "message";
                part.ContentType.MediaSubtype = "global-headers";
            }
            return part;
        }
        var body = original.Body;
        if (body.Length > 0 && body[^1] != (byte)'\n') body = [.. body, (byte)'\r', (byte)'\n'];
        var encoding = Smtp.Client.DataEncoder.HasEightBit(body) ? ContentEncoding.EightBit : ContentEncoding.SevenBit;
        return new MimePart("message", global ? "global" : "rfc822")
        {
            ContentDescription = "Undelivered Message",
            ContentTransferEncoding = encoding,
            Content = new MimeContent(new MemoryStream(body), encoding),
        };
    }
}
