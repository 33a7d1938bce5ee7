using Relay.Smtp.Server;

namespace Relay.Smtp.Tests.Server;

public class SmtpStateTableTests
{
    private static readonly SessionFacts Plain = new(true, false, false, false, false);

    [Theory]
    [InlineData(SmtpState.Connected, SmtpVerb.Mail, 503)]
    [InlineData(SmtpState.Connected, SmtpVerb.Rcpt, 503)]
    [InlineData(SmtpState.Connected, SmtpVerb.Data, 503)]
    [InlineData(SmtpState.Greeted, SmtpVerb.Rcpt, 503)]
    [InlineData(SmtpState.Greeted, SmtpVerb.Data, 503)]
    [InlineData(SmtpState.InMail, SmtpVerb.Mail, 503)]
    [InlineData(SmtpState.InMail, SmtpVerb.Data, 554)]
    [InlineData(SmtpState.InMail, SmtpVerb.StartTls, 503)]
    [InlineData(SmtpState.Chunking, SmtpVerb.Data, 503)]
    [InlineData(SmtpState.Chunking, SmtpVerb.Mail, 503)]
    public void Out_of_sequence_commands_are_refused(SmtpState state, SmtpVerb verb, int code)
    {
        var decision = SmtpStateTable.Decide(state, verb, Plain);
        Assert.False(decision.Allowed);
        Assert.Equal(code, decision.Reply!.Code);
        Assert.Equal(state, decision.Next);
    }

    [Fact]
    public void A_full_transaction_walks_the_table()
    {
        var s = SmtpState.Connected;
        foreach (var (verb, expected) in new[] { (SmtpVerb.Ehlo, SmtpState.Greeted), (SmtpVerb.Mail, SmtpState.InMail),
                     (SmtpVerb.Rcpt, SmtpState.HasRecipients), (SmtpVerb.Rcpt, SmtpState.HasRecipients), (SmtpVerb.Data, SmtpState.Greeted) })
        {
            var d = SmtpStateTable.Decide(s, verb, Plain);
            Assert.True(d.Allowed);
            Assert.Equal(expected, d.Next);
            s = d.Next;
        }
    }

    [Fact]
    public void Second_starttls_is_554_5_5_1()
    {
        var tls = Plain with { TlsActive = true };
        Assert.Equal("554 5.5.1", Code(SmtpStateTable.Decide(SmtpState.Greeted, SmtpVerb.StartTls, tls)));
        Assert.Equal("554 5.5.1", Code(SmtpStateTable.Decide(SmtpState.Connected, SmtpVerb.StartTls, tls)));
    }

    [Fact]
    public void Auth_needs_tls_and_submission_needs_auth_before_mail()
    {
        var submission = new SessionFacts(true, false, true, false, true);
        Assert.Equal("530 5.7.0", Code(SmtpStateTable.Decide(SmtpState.Greeted, SmtpVerb.Auth, submission)));
        Assert.True(SmtpStateTable.Decide(SmtpState.Greeted, SmtpVerb.Auth, submission with { TlsActive = true }).Allowed);
        Assert.Equal(530, SmtpStateTable.Decide(SmtpState.Greeted, SmtpVerb.Mail, submission).Reply!.Code);
        Assert.True(SmtpStateTable.Decide(SmtpState.Greeted, SmtpVerb.Mail, submission with { Authenticated = true }).Allowed);
        Assert.Equal(502, SmtpStateTable.Decide(SmtpState.Greeted, SmtpVerb.Auth, Plain with { TlsActive = true }).Reply!.Code);
    }

    [Fact]
    public void Rset_and_quit_are_allowed_in_every_state()
    {
        foreach (var state in Enum.GetValues<SmtpState>())
        {
            Assert.True(SmtpStateTable.Decide(state, SmtpVerb.Rset, Plain).Allowed);
            Assert.True(SmtpStateTable.Decide(state, SmtpVerb.Quit, Plain).Allowed);
        }
    }

    private static string Code(SmtpDecision d) => $"{d.Reply!.Code} {d.Reply.Enhanced}";
}
