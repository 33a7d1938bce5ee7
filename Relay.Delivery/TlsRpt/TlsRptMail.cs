using System.Text;
using MimeKit;
using Relay.Policy.TlsRpt;

namespace Relay.Delivery.TlsRpt;

/// <summary>
/// A report as mail (RFC 8460 §5.3), composed with MimeKit: `multipart/report; report-type="tlsrpt"` with a short
/// human-readable part and the gzip'd JSON as `application/tlsrpt+gzip`, named
/// `submitter!policy-domain!begin-timestamp!end-timestamp!unique-id.json.gz` (seconds since the epoch), the subject
/// `Report Domain: … Submitter: … Report-ID: <…>` and the `TLS-Report-Domain` / `TLS-Report-Submitter` header fields.
/// </summary>
public static class TlsRptMail
{
    public const string MediaSubtype = "tlsrpt+gzip";

    public static byte[] Compose(TlsRptReport report, TlsRptOptions options, string recipient, DateTimeOffset now)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(options.OrganizationName, options.FromAddress));
        message.To.Add(new MailboxAddress("", recipient));
        message.Subject = $"Report Domain: {report.Domain} Submitter: {options.Submitter} Report-ID: <{report.ReportId}>";
        message.Date = now;
        message.MessageId = $"{Guid.NewGuid():N}@{options.Submitter}";
        message.Headers.Add("TLS-Report-Domain", report.Domain);
        message.Headers.Add("TLS-Report-Submitter", options.Submitter);
        // Like a DSN: an automatic message, so auto-responders stay quiet (RFC 3834).
        message.Headers.Add("Auto-Submitted", "auto-generated");

        var human = new TextPart("plain")
        {
            Text = $"This is an aggregate TLS report (RFC 8460) from {options.OrganizationName} for {report.Domain}, " +
                   $"{report.Start:yyyy-MM-dd'T'HH:mm:ss'Z'} to {report.End:yyyy-MM-dd'T'HH:mm:ss'Z'}: " +
                   $"{report.Successful} successful and {report.Failed} failed session(s).\r\n",
        };
        human.ContentType.Charset = "us-ascii";
        var attachment = new MimePart("application", MediaSubtype)
        {
            Content = new MimeContent(new MemoryStream(TlsRptJson.Gzip(report))),
            ContentTransferEncoding = ContentEncoding.Base64,
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment) { FileName = FileName(report, options.Submitter) },
        };
        message.Body = new MultipartReport("tlsrpt") { human, attachment };

        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream();
        message.WriteTo(format, output);
        return output.ToArray();
    }

    /// <summary>RFC 8460 §5.3: sender "!" policy-domain "!" begin-timestamp "!" end-timestamp [ "!" unique-id ] "." extension.</summary>
    public static string FileName(TlsRptReport report, string submitter)
    {
        var unique = new StringBuilder();
        foreach (var c in report.ReportId) unique.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_');
        return $"{submitter}!{report.Domain}!{report.Start.ToUnixTimeSeconds()}!{report.End.ToUnixTimeSeconds()}!{unique}.json.gz";
    }
}
