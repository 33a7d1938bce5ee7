using System.Text;
using Relay.Smtp.Server;

namespace Relay.Smtp.Tests.Server;

public class CommandParserTests
{
    private static CommandParse P(string line, bool utf8 = false) => CommandParser.Parse(Encoding.UTF8.GetBytes(line), utf8);

    [Theory]
    [InlineData("NOOP\0", 500)]
    [InlineData("MAIL FROM:<a\0@b.example>", 500)]
    [InlineData("NOOP \u00e9", 501)]
    [InlineData("H\u00c9LO x", 501)]
    [InlineData("EHLO a\rb", 501)]
    [InlineData("FOO", 500)]
    [InlineData("", 500)]
    public void Nul_control_and_non_ascii_bytes_are_refused(string line, int code)
    {
        Assert.Equal(code, P(line).Error?.Code);
    }

    [Fact]
    public void Invalid_utf8_is_refused_with_501()
    {
        Assert.Equal(501, CommandParser.Parse([(byte)'M', (byte)'A', (byte)'I', (byte)'L', (byte)' ', 0xff]).Error?.Code);
    }

    [Fact]
    public void Mail_parses_every_parameter()
    {
        var mail = Assert.IsType<MailCommand>(P("mail from:<a@b.example> SIZE=100 BODY=8bitmime RET=HDRS ENVID=x+2By REQUIRETLS").Command);
        Assert.Equal("a@b.example", mail.Sender!.ToString());
        Assert.Equal(new MailParameters(100, "8BITMIME", false, "HDRS", "x+2By", true), mail.Parameters);
    }

    [Fact]
    public void Null_reverse_path_and_a_space_after_the_colon_are_accepted()
    {
        var mail = Assert.IsType<MailCommand>(P("MAIL FROM: <>").Command);
        Assert.Null(mail.Sender);
    }

    [Theory]
    [InlineData("MAIL FROM:a@b.example", 501)]
    [InlineData("MAIL FROM:<a@b.example> SIZE=x", 501)]
    [InlineData("MAIL FROM:<a@b.example> SIZE=1 SIZE=2", 501)]
    [InlineData("MAIL FROM:<a@b.example> FOO=bar", 555)]
    [InlineData("MAIL FROM:<a@b.example>junk", 501)]
    [InlineData("MAIL FROM:<a@b.example> BODY=9BIT", 501)]
    [InlineData("MAIL FROM:<a..b@b.example>", 501)]
    [InlineData("MAIL FROM:<a@b.example.>", 501)]
    [InlineData("MAIL FROM:<a@-b.example>", 501)]
    [InlineData("MAIL FROM:<@b.example>", 501)]
    [InlineData("MAIL FROM:<\u00e9@b.example>", 553)]
    [InlineData("RCPT TO:<>", 501)]
    [InlineData("RCPT TO:<a@b.example> NOTIFY=NEVER,SUCCESS", 501)]
    [InlineData("RCPT TO:<a@b.example> ORCPT=rfc822", 501)]
    [InlineData("DATA x", 501)]
    [InlineData("BDAT x", 501)]
    [InlineData("BDAT 10 MORE", 501)]
    public void Malformed_commands_get_their_reply_code(string line, int code)
    {
        Assert.Equal(code, P(line).Error?.Code);
    }

    [Fact]
    public void Utf8_addresses_are_allowed_with_smtputf8()
    {
        var mail = Assert.IsType<MailCommand>(P("MAIL FROM:<\u00e9@b.example> SMTPUTF8").Command);
        Assert.True(mail.Parameters.SmtpUtf8);
        Assert.IsType<RcptCommand>(P("RCPT TO:<\u00fc@b.example>", utf8: true).Command);
        Assert.Equal(553, P("RCPT TO:<\u00fc@b.example>", utf8: false).Error?.Code);
    }

    [Fact]
    public void Source_routes_are_stripped_to_the_final_mailbox()
    {
        var rcpt = Assert.IsType<RcptCommand>(P("RCPT TO:<@hosted.example,@relay.example:user@other.example>").Command);
        Assert.Equal("user@other.example", rcpt.Recipient.ToString());
        Assert.True(rcpt.Recipient.HadSourceRoute);
    }

    [Fact]
    public void Rcpt_dsn_parameters_are_kept()
    {
        var rcpt = Assert.IsType<RcptCommand>(P("RCPT TO:<a@b.example> NOTIFY=failure,success ORCPT=rfc822;a+40b").Command);
        Assert.Equal(new RcptParameters("SUCCESS,FAILURE", "rfc822;a+40b"), rcpt.Parameters);
    }

    [Fact]
    public void Quoted_local_parts_and_literals_parse()
    {
        var rcpt = Assert.IsType<RcptCommand>(P("RCPT TO:<\"a@evil.example\"@hosted.example>").Command);
        Assert.True(rcpt.Recipient.QuotedLocalPart);
        Assert.Equal("a@evil.example", rcpt.Recipient.LocalPartValue);
        var literal = Assert.IsType<RcptCommand>(P("RCPT TO:<a@[192.0.2.1]>").Command);
        Assert.True(literal.Recipient.AddressLiteral);
        Assert.IsType<RcptCommand>(P("RCPT TO:<a@[IPv6:2001:db8::1]>").Command);
        Assert.Equal(501, P("RCPT TO:<a@[300.1.1.1]>").Error?.Code);
    }

    [Fact]
    public void Postmaster_without_domain_is_a_recipient_only()
    {
        var rcpt = Assert.IsType<RcptCommand>(P("RCPT TO:<Postmaster>").Command);
        Assert.Null(rcpt.Recipient.Domain);
        Assert.Equal(501, P("MAIL FROM:<postmaster>").Error?.Code);
    }

    [Fact]
    public void Bdat_and_auth_arguments_parse()
    {
        Assert.Equal(new BdatCommand(42, true), P("BDAT 42 LAST").Command);
        Assert.Equal(new AuthCommand("PLAIN", "AGEAYg=="), P("auth plain AGEAYg==").Command);
        Assert.Equal(new HeloCommand(true, "client.example"), P("EHLO client.example").Command);
        Assert.Equal(501, P("EHLO").Error?.Code);
    }
}
