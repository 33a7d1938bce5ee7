using System.Text;
using Relay.Smtp.Client;
using Relay.Smtp.Protocol;
using Relay.Smtp.Server;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests.Fuzzing;

/// <summary>
/// Issue 13 §6, SMTP both ways (lib/Relay.Smtp): command lines as a client sends them (framer, command parser, MAIL
/// and RCPT parameters, paths), message data as it arrives after 354, and server replies as delivery reads them (reply
/// parser, EHLO capabilities). None of these has an exception of its own: every input must get an answer.
/// </summary>
public sealed class SmtpFuzzTests(ITestOutputHelper output)
{
    private static readonly IReadOnlyList<byte[]> Commands = Mutator.Ascii(
        "EHLO client.example.org", "HELO [192.0.2.1]", "MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME",
        "MAIL FROM:<> RET=HDRS ENVID=QQ314159+2B", "MAIL FROM:<jörg@bücher.example> SMTPUTF8", "MAIL FROM:<alice@example.org> REQUIRETLS",
        "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2Bx@example.net", "RCPT TO:<Postmaster>",
        "RCPT TO:<\"quoted local\"@[IPv6:2001:db8::1]>", "RCPT TO:<@relay.example:bob@example.net>", "DATA", "BDAT 1000 LAST", "BDAT 0",
        "RSET", "NOOP anything", "QUIT", "VRFY bob", "HELP", "STARTTLS", "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "AUTH LOGIN");

    private static readonly IReadOnlyList<byte[]> Replies = Mutator.Ascii(
        "220 mx.example.net ESMTP Postfix (Debian/GNU)\r\n",
        "250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250-REQUIRETLS\r\n250 CHUNKING\r\n",
        "250 2.1.0 Ok\r\n", "354 End data with <CR><LF>.<CR><LF>\r\n", "250 2.0.0 Ok: queued as 4XyZ1\r\n",
        "451 4.7.1 Greylisted, please try again later\r\n", "550-5.7.1 Service unavailable; client blocked\r\n550 5.7.1 see https://example.net/why\r\n",
        "421 4.3.2 Service shutting down\n", "220 2.0.0 Ready to start TLS\r\n", "221 2.0.0 Bye\r\n");

    private static readonly IReadOnlyList<byte[]> Data = Mutator.Ascii(
        "Subject: hi\r\nFrom: a@example.org\r\n\r\nline one\r\n..leading dot\r\n.\r\n",
        "Received: from x by y; Tue, 1 Dec 2026 10:00:00 +0000\r\nSubject: t\r\n\r\nbody\r\n\r\n.\r\n",
        "Subject: bare\nline\rmore\r\n.\r\n");

    [Fact]
    public void Command_lines_always_get_a_command_or_a_reply()
    {
        Fuzz.Run(output, "smtp-command", 1301, 20_000, Commands, line =>
        {
            var framer = new CommandLineFramer(512);
            _ = framer.Next(line.Concat("\r\n"u8.ToArray()).ToArray());
            var parse = CommandParser.Parse(line, utf8Transaction: line.Length % 2 == 0);
            Assert.True(parse.Command is not null ^ parse.Error is not null, "a parse is a command or an error, not both or neither");
            var text = Encoding.UTF8.GetString(line);
            var argument = text.Length > 10 ? text[10..] : text;
            _ = PathParser.TryParse(argument, allowNull: true, allowPostmaster: true, utf8: true, out _, out _);
            _ = EsmtpParameters.ParseMail(argument, out _);
            _ = EsmtpParameters.ParseRcpt(argument, out _);
            if (Xtext.IsValid(argument)) _ = Xtext.Decode(argument);
            return parse.Command is not null;
        });
    }

    [Fact]
    public void Server_replies_always_parse_to_a_reply_need_more_or_a_protocol_error()
    {
        Fuzz.Run(output, "smtp-reply", 1302, 20_000, Replies, bytes =>
        {
            var result = ReplyParser.Parse(bytes);
            if (result.Status != ReplyParseStatus.Complete) return false;
            Assert.InRange(result.Consumed, 1, bytes.Length);
            _ = result.Reply!.EnhancedStatus;
            _ = result.Reply.ToString();
            _ = SmtpCapabilities.FromEhlo(result.Reply);
            return true;
        });
    }

    [Fact]
    public void Message_data_is_always_read_to_a_body_or_a_data_error()
    {
        Fuzz.Run(output, "smtp-data", 1303, 5_000, Data, bytes =>
        {
            var reader = new DataReader(new DataReaderOptions(64 * 1024, bytes.Length % 2 == 0 ? BareLineEndingMode.Normalize : BareLineEndingMode.Reject), dotTransparency: true);
            // Fed in uneven pieces, as reads from a socket arrive.
            var offset = 0;
            for (var step = 0; offset < bytes.Length && !reader.Ended && step < 10_000; step++)
            {
                var piece = Math.Min(bytes.Length - offset, 1 + (offset * 7 + 3) % 97);
                var consumed = reader.Feed(bytes.AsSpan(offset, piece));
                Assert.InRange(consumed, 0, piece);
                offset += consumed == 0 ? piece : consumed;
            }
            _ = reader.Body;
            if (reader.Ended && reader.Error == DataError.None) _ = HeaderScanner.CountReceived(reader.Body.Span);
            return reader.Ended && reader.Error == DataError.None;
        });
    }
}
