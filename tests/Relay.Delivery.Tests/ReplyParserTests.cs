using System.Text;
using Relay.Smtp.Client;

namespace Relay.Delivery.Tests;

public class ReplyParserTests
{
    private static ReplyParseResult Parse(string text) => ReplyParser.Parse(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Multi_line_reply_is_one_reply_with_every_line()
    {
        var result = Parse("250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\nrest");
        Assert.Equal(ReplyParseStatus.Complete, result.Status);
        Assert.Equal(250, result.Reply!.Code);
        Assert.Equal(["mx.example", "PIPELINING", "STARTTLS"], result.Reply.Lines);
        Assert.Equal("250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n".Length, result.Consumed);
    }

    [Fact]
    public void Every_proper_prefix_of_a_reply_needs_more_data()
    {
        var bytes = Encoding.ASCII.GetBytes("250-first\r\n250-second\r\n250 last\r\n");
        for (var i = 0; i < bytes.Length; i++)
            Assert.Equal(ReplyParseStatus.NeedMoreData, ReplyParser.Parse(bytes.AsSpan(0, i)).Status);
        Assert.Equal(ReplyParseStatus.Complete, ReplyParser.Parse(bytes).Status);
    }

    [Theory]
    [InlineData("250-first\r\n251 second\r\n", "continuation")]
    [InlineData("hello there\r\n", "code")]
    [InlineData("25\r\n", "code")]
    [InlineData("250x\r\n", "space or hyphen")]
    [InlineData("199 too low\r\n", "outside")]
    [InlineData("600 too high\r\n", "outside")]
    public void Malformed_replies_are_protocol_errors(string text, string expected)
    {
        var result = Parse(text);
        Assert.Equal(ReplyParseStatus.ProtocolError, result.Status);
        Assert.Contains(expected, result.Error);
    }

    [Fact]
    public void Over_long_line_without_end_is_a_protocol_error_not_unbounded_buffering()
    {
        var result = Parse("250 " + new string('x', ReplyParser.MaxLineLength + 10));
        Assert.Equal(ReplyParseStatus.ProtocolError, result.Status);
    }

    [Fact]
    public void Too_many_continuation_lines_are_a_protocol_error()
    {
        var text = string.Concat(Enumerable.Repeat("250-x\r\n", ReplyParser.MaxLines + 1)) + "250 end\r\n";
        Assert.Equal(ReplyParseStatus.ProtocolError, Parse(text).Status);
    }

    [Fact]
    public void Bare_code_and_bare_lf_are_accepted()
    {
        var result = Parse("250\n");
        Assert.Equal(ReplyParseStatus.Complete, result.Status);
        Assert.Equal(250, result.Reply!.Code);
    }

    [Fact]
    public void Enhanced_status_is_read_only_when_its_class_matches()
    {
        Assert.Equal("5.1.1", Parse("550 5.1.1 no such user\r\n").Reply!.EnhancedStatus);
        Assert.Null(Parse("550 4.1.1 mismatched\r\n").Reply!.EnhancedStatus);
        Assert.Null(Parse("550 no status\r\n").Reply!.EnhancedStatus);
    }

    [Fact]
    public void Control_characters_in_peer_text_cannot_forge_log_lines()
    {
        var reply = Parse("550 evil\u001b[31m\ttext\r\n").Reply!;
        Assert.DoesNotContain('\u001b', reply.ToString());
        Assert.DoesNotContain('\t', reply.ToString());
    }

    [Fact]
    public void Capabilities_come_from_ehlo_lines_after_the_first()
    {
        var reply = Parse("250-mx.example greets you\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250-pipelining\r\n250 STARTTLS\r\n").Reply!;
        var caps = SmtpCapabilities.FromEhlo(reply);
        Assert.True(caps.Pipelining);
        Assert.True(caps.StartTls);
        Assert.True(caps.EightBitMime);
        Assert.False(caps.SmtpUtf8);
        Assert.Equal(1000, caps.MaxSize);
        Assert.False(caps.Supports("MX.EXAMPLE"));
    }
}
