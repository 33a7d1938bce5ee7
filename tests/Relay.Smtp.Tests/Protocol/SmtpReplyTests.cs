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
}
