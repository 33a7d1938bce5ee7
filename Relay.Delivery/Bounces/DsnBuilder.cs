using System.Globalization;
using System.Text;
using Relay.Db;

namespace Relay.Delivery.Bounces;

/// <summary>One failed (or, with NOTIFY=SUCCESS, relayed) recipient for a DSN.</summary>
public sealed record DsnRecipient(string Address, string? OriginalRecipient, string Action, string Status, string? RemoteMta, string Diagnostic);

/// <summary>
/// Builds an RFC 3464 delivery status notification: multipart/report with a human part, a
/// message/delivery-status part (Reporting-MTA, Original-Envelope-Id, Arrival-Date, then per recipient
/// Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code) and the original message, or only its
/// headers when RET=HDRS, the message demanded REQUIRETLS, or it is larger than the limit (RFC 3461 §4.3).
/// </summary>
public static class DsnBuilder
{
    public static byte[] Build(string reportingMta, QueuedMessage original, IReadOnlyList<DsnRecipient> recipients, int maxReturnedBytes,
        DateTimeOffset now)
    {
        var boundary = $"{now.ToUnixTimeMilliseconds()}.{Guid.NewGuid():N}/{reportingMta}";
        var failed = recipients.Any(r => r.Action == "failed");
        var delayed = !failed && recipients.Any(r => r.Action == "delayed");
        var text = new StringBuilder();
        void Line(string s) => text.Append(s).Append("\r\n");

        Line($"From: Mail Delivery System <MAILER-DAEMON@{reportingMta}>");
        Line($"To: <{original.Sender}>");
        Line(failed ? "Subject: Undelivered Mail Returned to Sender"
            : delayed ? "Subject: Delayed Mail (still being retried)"
            : "Subject: Successful Mail Delivery Report");
        Line($"Date: {now.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)}");
        Line($"Message-ID: <{Guid.NewGuid():N}@{reportingMta}>");
        Line("Auto-Submitted: auto-replied");
        Line("MIME-Version: 1.0");
        Line($"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"");
        Line("");
        Line("This is a MIME-encapsulated message.");
        Line("");
        Line($"--{boundary}");
        Line("Content-Description: Notification");
        Line("Content-Type: text/plain; charset=us-ascii");
        Line("");
        Line($"This is the mail system at host {reportingMta}.");
        Line("");
        Line(failed ? "Your message could not be delivered to one or more recipients. The mail system said:"
            : delayed ? "Your message has not been delivered yet and is still being retried; no action is needed. The mail system said:"
            : "Your message was delivered to the following recipients:");
        Line("");
        foreach (var r in recipients)
            Line($"<{Ascii(r.Address)}>: {Ascii(r.Diagnostic)}");
        Line("");
        Line($"--{boundary}");
        Line("Content-Description: Delivery report");
        Line("Content-Type: message/delivery-status");
        Line("");
        Line($"Reporting-MTA: dns; {reportingMta}");
        if (original.DsnEnvid is { } envid) Line($"Original-Envelope-Id: {envid}");
        Line($"X-Relay-Queue-ID: {original.QueueId}");
        Line($"Arrival-Date: {original.ReceivedAt.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)}");
        foreach (var r in recipients)
        {
            Line("");
            if (r.OriginalRecipient is { } orcpt) Line($"Original-Recipient: {orcpt}");
            Line($"Final-Recipient: rfc822; {Ascii(r.Address)}");
            Line($"Action: {r.Action}");
            Line($"Status: {r.Status}");
            if (r.RemoteMta is { } mta) Line($"Remote-MTA: dns; {Ascii(mta)}");
            Line($"Diagnostic-Code: smtp; {Ascii(r.Diagnostic)}");
        }
        Line("");

        // A REQUIRETLS message is reported as if RET=HDRS (RFC 8689 §5): the DSN itself is not sent under REQUIRETLS,
        // so the body its sender wanted kept off unauthenticated links must not ride along in it.
        var headersOnly = original.DsnRet == "HDRS" || original.RequireTls || original.Body.Length > maxReturnedBytes;
        Line($"--{boundary}");
        Line(headersOnly ? "Content-Description: Undelivered Message Headers" : "Content-Description: Undelivered Message");
        Line(headersOnly ? "Content-Type: text/rfc822-headers" : "Content-Type: message/rfc822");
        Line("");
        var output = new MemoryStream();
        output.Write(Encoding.ASCII.GetBytes(text.ToString()));
        var returned = headersOnly ? Headers(original.Body) : original.Body;
        output.Write(returned);
        if (returned.Length > 0 && returned[^1] != (byte)'\n') output.Write("\r\n"u8);
        output.Write(Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n"));
        return output.ToArray();
    }

    /// <summary>The header section of a message: everything up to the first empty line.</summary>
    public static byte[] Headers(byte[] message)
    {
        var span = message.AsSpan();
        var end = span.IndexOf("\r\n\r\n"u8);
        return end < 0 ? message : span[..(end + 2)].ToArray();
    }

    /// <summary>DSN fields are ASCII (RFC 3464 §2.1.2 allows xtext in addresses); the peer's text is not ours to pass through raw.</summary>
    private static string Ascii(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                span[i] = source[i] is >= ' ' and <= '~' ? source[i] : '?';
        });
}
