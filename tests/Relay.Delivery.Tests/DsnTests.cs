using System.Text;
using Relay.Db;
using Relay.Delivery.Bounces;
using Relay.Smtp.Client;

namespace Relay.Delivery.Tests;

public class DsnTests
{
    private static QueuedMessage Original(string? ret = null, string? envid = null, string body = "Subject: original\r\nFrom: a@origin.test\r\n\r\nsecret body\r\n") =>
        new(1, "0123456789ABCDEF", "alice@origin.test", Encoding.ASCII.GetBytes(body), DateTimeOffset.UtcNow.AddHours(-1), "7BIT", false, false, envid, ret);

    private static readonly DsnRecipient Failed = new("bob@dest.test", "rfc822;Bob@Dest.test", "failed", "5.1.1", "mx.dest.test", "550 5.1.1 unknown");

    [Fact]
    public void Ret_hdrs_returns_only_the_headers_and_envid_is_echoed()
    {
        var text = Encoding.ASCII.GetString(DsnBuilder.Build("relay.test", Original("HDRS", "env-42"), [Failed], 1 << 20, DateTimeOffset.UtcNow));
        Assert.Contains("Content-Type: text/rfc822-headers", text);
        Assert.Contains("Subject: original", text);
        Assert.DoesNotContain("secret body", text);
        Assert.Contains("Original-Envelope-Id: env-42", text);
        Assert.Contains("Original-Recipient: rfc822; Bob@Dest.test", text);
        Assert.Contains("Remote-MTA: dns; mx.dest.test", text);
    }

    [Fact]
    public void Full_return_includes_the_message_unless_it_exceeds_the_limit()
    {
        var full = Encoding.ASCII.GetString(DsnBuilder.Build("relay.test", Original(), [Failed], 1 << 20, DateTimeOffset.UtcNow));
        Assert.Contains("Content-Type: message/rfc822", full);
        Assert.Contains("secret body", full);
        var cut = Encoding.ASCII.GetString(DsnBuilder.Build("relay.test", Original(), [Failed], 10, DateTimeOffset.UtcNow));
        Assert.DoesNotContain("secret body", cut);
        Assert.Contains("Content-Type: text/rfc822-headers", cut);
    }

    [Fact]
    public void Dsn_is_ascii_crlf_text_whatever_the_peer_said()
    {
        var nasty = Failed with { Diagnostic = "550 bad\u001b[2J\u00e9 text" };
        var bytes = DsnBuilder.Build("relay.test", Original(), [nasty], 1 << 20, DateTimeOffset.UtcNow);
        Assert.False(DataEncoder.HasEightBit(bytes));
        Assert.DoesNotContain((byte)0x1b, bytes);
        var wire = DataEncoder.Encode(bytes);
        DataEncoderTests.AssertCleanWire(wire);
    }

    [Fact]
    public void Reply_parser_answers_every_random_input_without_throwing()
    {
        var random = new Random(7305);
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            if (i % 2 == 0)
                for (var j = 0; j < bytes.Length; j++)
                    bytes[j] = (byte)"0123456789- \r\nabc"[bytes[j] % 17];
            var result = ReplyParser.Parse(bytes);
            Assert.True(result.Status != ReplyParseStatus.Complete || (result.Reply is not null && result.Consumed <= bytes.Length));
        }
    }
}
