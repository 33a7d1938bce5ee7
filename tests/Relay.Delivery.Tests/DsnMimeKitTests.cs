using System.Text;
using MimeKit;
using Relay.Db;
using Relay.Delivery.Bounces;

namespace Relay.Delivery.Tests;

/// <summary>DSNs composed by DsnBuilder, parsed back with MimeKit (an independent reader) field by field.</summary>
public class DsnMimeKitTests
{
    private const string OriginalText = "Subject: original\r\nFrom: a@origin.test\r\nX-Odd:  kept   as   is \r\n\r\nsecret body\r\nline two\r\n";
    private static readonly DateTimeOffset Arrived = new(2026, 11, 30, 8, 15, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 30, 0, TimeSpan.Zero);

    private static QueuedMessage Original(bool smtpUtf8 = false, string? ret = null, string body = OriginalText, string sender = "alice@origin.test") =>
        new(1, "0123456789ABCDEF", sender, Encoding.UTF8.GetBytes(body), Arrived, smtpUtf8 ? "8BITMIME" : "7BIT", smtpUtf8, false, "env-42", ret);

    private static readonly DsnRecipient Failed = new("bob@dest.test", "rfc822;Bob@Dest.test", "failed", "5.1.1", "mx.dest.test", "550 5.1.1 unknown user");

    private static (MimeMessage Message, MultipartReport Report, MessageDeliveryStatus Status) Parse(byte[] dsn)
    {
        var message = MimeMessage.Load(new MemoryStream(dsn));
        var report = Assert.IsType<MultipartReport>(message.Body);
        Assert.Equal("delivery-status", report.ReportType);
        Assert.Equal(3, report.Count);
        return (message, report, Assert.IsType<MessageDeliveryStatus>(report[1]));
    }

    [Fact]
    public void Failure_report_carries_every_rfc3464_field()
    {
        var (message, report, status) = Parse(DsnBuilder.Build("relay.test", Original(), [Failed], 1 << 20, Now));
        Assert.Equal("MAILER-DAEMON@relay.test", ((MailboxAddress)message.From[0]).Address);
        Assert.Equal("alice@origin.test", ((MailboxAddress)message.To[0]).Address);
        Assert.Equal("auto-replied", message.Headers["Auto-Submitted"]);
        Assert.Equal("delivery-status", status.ContentType.MediaSubtype);
        Assert.Equal(2, status.StatusGroups.Count);
        var perMessage = status.StatusGroups[0];
        Assert.Equal("dns; relay.test", perMessage["Reporting-MTA"]);
        Assert.Equal("env-42", perMessage["Original-Envelope-Id"]);
        Assert.Equal(Arrived, MimeKit.Utils.DateUtils.TryParse(perMessage["Arrival-Date"], out var arrival) ? arrival : default);
        var recipient = status.StatusGroups[1];
        Assert.Equal("rfc822; Bob@Dest.test", recipient["Original-Recipient"]);
        Assert.Equal("rfc822; bob@dest.test", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.1.1", recipient["Status"]);
        Assert.Equal("dns; mx.dest.test", recipient["Remote-MTA"]);
        Assert.Equal("smtp; 550 5.1.1 unknown user", recipient["Diagnostic-Code"]);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(recipient["Last-Attempt-Date"], out var last) && last == Now);
        Assert.Equal("Notification", ((MimePart)report[0]).ContentDescription);
        Assert.Contains("<bob@dest.test>: 550 5.1.1 unknown user", ((TextPart)report[0]).Text);
    }

    [Fact]
    public void Delay_report_says_until_when_it_retries()
    {
        var until = Arrived.AddDays(5);
        var delayed = Failed with { Action = "delayed", Status = "4.4.1", Diagnostic = "421 try later", WillRetryUntil = until };
        var (message, _, status) = Parse(DsnBuilder.Build("relay.test", Original(), [delayed], 1 << 20, Now));
        Assert.StartsWith("Delayed Mail", message.Subject);
        Assert.Equal("delayed", status.StatusGroups[1]["Action"]);
        Assert.True(MimeKit.Utils.DateUtils.TryParse(status.StatusGroups[1]["Will-Retry-Until"], out var parsed) && parsed == until);
    }

    [Fact]
    public void Long_diagnostic_is_folded_and_unfolds_to_the_peer_text()
    {
        var words = string.Join(' ', Enumerable.Range(1, 60).Select(i => $"word{i}"));
        var dsn = DsnBuilder.Build("relay.test", Original(), [Failed with { Diagnostic = "550 5.7.1 " + words }], 1 << 20, Now);
        var wire = Encoding.ASCII.GetString(dsn);
        var field = wire[wire.IndexOf("Diagnostic-Code: smtp; 550 5.7.1 word1", StringComparison.Ordinal)..];
        var lines = field[..field.IndexOf("\r\n\r\n", StringComparison.Ordinal)].Split("\r\n");
        Assert.True(lines.Length > 3, "a 500-character Diagnostic-Code is folded over several lines");
        Assert.All(lines, line => Assert.True(line.Length <= 78, $"line of {line.Length}: {line}"));
        var (_, _, status) = Parse(dsn);
        Assert.Equal("smtp; 550 5.7.1 " + words, status.StatusGroups[1]["Diagnostic-Code"]);
    }

    [Fact]
    public void Non_ascii_peer_text_is_encoded_not_replaced_and_controls_are_dropped()
    {
        var dsn = DsnBuilder.Build("relay.test", Original(), [Failed with { Diagnostic = "550 Empfänger unbekannt\u001b[2J — ошибка" }], 1 << 20, Now);
        Assert.DoesNotContain(dsn, b => b >= 0x80 || b == 0x1b); // a 7-bit DSN: encoded words and quoted-printable
        var (_, report, status) = Parse(dsn);
        Assert.Equal("smtp; 550 Empfänger unbekannt [2J — ошибка", status.StatusGroups[1]["Diagnostic-Code"]);
        Assert.Contains("550 Empfänger unbekannt [2J — ошибка", ((TextPart)report[0]).Text);
        Assert.DoesNotContain("?", ((TextPart)report[0]).Text);
    }

    [Fact]
    public void Smtputf8_message_gets_a_global_report_with_the_utf8_recipient_as_utf8()
    {
        var body = "Subject: Grüße\r\nFrom: jörg@origin.test\r\n\r\nHallo\r\n";
        var utf8 = new DsnRecipient("bøb@dést.test", "utf-8;b\\x{F8}b@d\\x{E9}st.test", "failed", "5.1.1", "mx.dést.test", "550 5.1.1 no such user");
        var dsn = DsnBuilder.Build("relay.test", Original(smtpUtf8: true, body: body), [utf8], 1 << 20, Now);
        var (_, report, status) = Parse(dsn);
        Assert.Equal("global-delivery-status", status.ContentType.MediaSubtype);
        Assert.Equal("utf-8; bøb@dést.test", status.StatusGroups[1]["Final-Recipient"]);
        Assert.Equal("utf-8; b\\x{F8}b@d\\x{E9}st.test", status.StatusGroups[1]["Original-Recipient"]);
        Assert.Equal("dns; mx.dést.test", status.StatusGroups[1]["Remote-MTA"]);
        Assert.Equal("message/global", report[2].ContentType.MimeType);
        Assert.Contains("Content-Type: message/global-delivery-status", Encoding.UTF8.GetString(dsn));
        Assert.Contains("Final-Recipient: utf-8; bøb@dést.test\r\n", Encoding.UTF8.GetString(dsn)); // UTF-8 itself, no encoded words
    }

    [Fact]
    public void Utf8_recipient_in_a_plain_report_is_written_as_embedded_unicode()
    {
        var utf8 = Failed with { Address = "bøb+x@dest.test", OriginalRecipient = null };
        var (_, _, status) = Parse(DsnBuilder.Build("relay.test", Original(), [utf8], 1 << 20, Now));
        Assert.Equal("delivery-status", status.ContentType.MediaSubtype);
        Assert.Equal("utf-8; b\\x{F8}b\\x{2B}x@dest.test", status.StatusGroups[1]["Final-Recipient"]);
    }

    [Fact]
    public void Returned_message_is_copied_byte_for_byte()
    {
        var dsn = DsnBuilder.Build("relay.test", Original(), [Failed], 1 << 20, Now);
        Assert.True(dsn.AsSpan().IndexOf(Encoding.ASCII.GetBytes(OriginalText)) >= 0);
        var (_, report, _) = Parse(dsn);
        var returned = Assert.IsType<MessagePart>(report[2]);
        Assert.Equal("original", returned.Message!.Subject);
        Assert.Equal("kept   as   is", returned.Message!.Headers["X-Odd"]!.Trim());
    }

    [Fact]
    public void Headers_only_report_uses_text_rfc822_headers_or_message_global_headers()
    {
        var (_, report, _) = Parse(DsnBuilder.Build("relay.test", Original(ret: "HDRS"), [Failed], 1 << 20, Now));
        var headers = Assert.IsType<TextRfc822Headers>(report[2]);
        Assert.Equal("original", headers.Message!.Subject);
        var global = DsnBuilder.Build("relay.test", Original(smtpUtf8: true, ret: "HDRS"), [Failed], 1 << 20, Now);
        Assert.Equal("message/global-headers", Parse(global).Report[2].ContentType.MimeType);
        Assert.DoesNotContain("secret body", Encoding.UTF8.GetString(global));
    }
}
