using Relay.Smtp.Protocol;

namespace Relay.Smtp.Tests.Protocol;

public class SmtpReplyTests
{
    [Fact]
    public void Multiline_replies_use_dash_continuations_and_the_enhanced_code_on_every_line()
    {
        var reply = new SmtpReply(250, "2.0.0", ["one", "two"]);
        Assert.Equal("250-2.0.0 one\r\n250 2.0.0 two\r\n", reply.Format());
    }

    [Fact]
    public void Control_characters_in_reply_text_cannot_inject_a_line()
    {
        var reply = new SmtpReply(550, "5.1.1", "bad\r\n250 ok");
        Assert.Equal("550 5.1.1 bad??250 ok\r\n", reply.Format());
    }

    public static TheoryData<SmtpReply> Replies() =>
    [
        new SmtpReply(250, "2.0.0", ["one", "two"]),
        new SmtpReply(550, "5.1.1", "bad\r\n250 ok\0\x7f\x1b end"),
        new SmtpReply(220, null, "relay.example ESMTP Relay"),
        new SmtpReply(250, null, ["relay.example", "PIPELINING", "SIZE 10240000", "8BITMIME"]),
        new SmtpReply(554, "5.7.1", "Zugriff verweigert: \u00fcber \u2603 \U0001F600"),
        new SmtpReply(421, "4.4.2", []),
        new SmtpReply(250, null, [""]),
    ];

    [Theory]
    [MemberData(nameof(Replies))]
    public void The_wire_octets_are_the_formatted_reply_in_UTF_8(SmtpReply reply)
    {
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(reply.Format()), reply.ToBytes());
    }
}
