using System.Net;
using System.Text;
using Relay.Smtp.Server;

namespace Relay.Smtp.Tests.Server;

public class ReceivedHeaderTests
{
    private static readonly DateTimeOffset Date = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static string Build(ReceivedInfo info) => Encoding.UTF8.GetString(ReceivedHeader.Build(info));

    [Fact]
    public void Cleartext_esmtp_says_esmtp_and_nothing_about_tls()
    {
        var text = Build(new ReceivedInfo("client.example", IPAddress.Parse("192.0.2.7"), "mx.example", true, null, null, false, false, null, "u@example.org", Date));
        Assert.Equal("Received: from client.example ([192.0.2.7])\r\n\tby mx.example (Relay) with ESMTP\r\n\tfor <u@example.org>; Fri, 02 Jan 2026 03:04:05 +0000\r\n", text);
    }

    [Fact]
    public void Tls_says_esmtps_and_names_version_cipher_and_that_no_client_certificate_was_verified()
    {
        var text = Build(new ReceivedInfo("c", IPAddress.Parse("2001:db8::1"), "mx", true, "TLSv1.3", "TLS_AES_256_GCM_SHA384", false, true, null, null, Date));
        Assert.Contains("([IPv6:2001:db8::1])", text);
        Assert.Contains("(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384; no client certificate verified)", text);
        Assert.Contains("with ESMTPSA", text);
    }

    [Fact]
    public void Plain_helo_is_smtp_even_over_tls_words_never_claim_more()
    {
        Assert.Contains("with SMTP\r\n", Build(new ReceivedInfo("c", IPAddress.Loopback, "mx", false, null, null, false, false, null, null, Date)));
    }

    [Fact]
    public void A_hostile_helo_cannot_open_comments_or_fake_fields()
    {
        var text = Build(new ReceivedInfo("evil) (using TLSv1.3", IPAddress.Loopback, "mx", true, null, null, false, false, null, null, Date));
        Assert.StartsWith("Received: from evil??", text);
        Assert.DoesNotContain("(using", text);
    }

    [Fact]
    public void Content_starting_with_whitespace_cannot_continue_our_received_field()
    {
        var field = "Received: from c\r\n\tby mx with ESMTP; date\r\n"u8;
        Assert.Equal("Received: from c\r\n\tby mx with ESMTP; date\r\n\r\n\twith ESMTPS\r\n",
            Encoding.ASCII.GetString(ReceivedHeader.Prepend(field, "\twith ESMTPS\r\n"u8)));
        Assert.Equal("Received: from c\r\n\tby mx with ESMTP; date\r\nSubject: x\r\n",
            Encoding.ASCII.GetString(ReceivedHeader.Prepend(field, "Subject: x\r\n"u8)));
    }

    [Fact]
    public void Hop_count_counts_received_fields_in_the_header_only()
    {
        var body = "Received: a\r\nreceived: b\r\n\tfolded\r\nSubject: x\r\n\r\nReceived: in body\r\n"u8;
        Assert.Equal(2, HeaderScanner.CountReceived(body));
        Assert.Equal(0, HeaderScanner.CountReceived(""u8));
    }
}
