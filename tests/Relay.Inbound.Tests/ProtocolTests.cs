using Relay.TestKit.Postgres;
using Relay.TestKit.Smtp;

namespace Relay.Inbound.Tests;

public class ProtocolTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private const string Rcpt = "user@" + TestListener.Hosted;

    internal static async Task<RawReply> SendMessageAsync(RawSmtpClient client, string sender, string recipient, string content)
    {
        Assert.Equal(250, (await client.CommandAsync($"MAIL FROM:<{sender}>")).Code);
        Assert.Equal(250, (await client.CommandAsync($"RCPT TO:<{recipient}>")).Code);
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync(content + "\r\n.\r\n");
        return await client.ReadReplyAsync();
    }

    [Fact]
    public async Task Ehlo_advertises_the_extensions_with_starttls_and_without_auth_on_port_25()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var ehlo = await client.CommandAsync("EHLO client.example");
        Assert.Equal(250, ehlo.Code);
        Assert.Equal("mx.test.example", ehlo.Lines[0]);
        foreach (var extension in new[] { "PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "CHUNKING", "DSN", "SMTPUTF8" })
            Assert.Contains(extension, ehlo.Lines);
        Assert.DoesNotContain(ehlo.Lines, l => l.StartsWith("AUTH", StringComparison.Ordinal) || l == "REQUIRETLS");
    }

    [Fact]
    public async Task A_message_is_acknowledged_with_its_queue_id_only_once_it_is_in_the_queue()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("plain");
        await client.CommandAsync("EHLO client.example");
        Assert.Equal(250, (await client.CommandAsync($"MAIL FROM:<{sender}> BODY=8BITMIME RET=HDRS ENVID=env+2B1")).Code);
        Assert.Equal(250, (await client.CommandAsync($"RCPT TO:<{Rcpt}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;{Rcpt}")).Code);
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<other@hosted.example>")).Code);
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync("Subject: hi\r\n\r\nhello\r\n..dot\r\n.\r\n");
        var reply = await client.ReadReplyAsync();
        Assert.Equal(250, reply.Code);
        Assert.StartsWith("2.0.0 Ok: queued as ", reply.Text);
        var queueId = reply.Text["2.0.0 Ok: queued as ".Length..];

        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.Equal(queueId, stored.QueueId);
        Assert.Equal("8BITMIME", stored.BodyType);
        Assert.Equal(("HDRS", "env+2B1"), (stored.Ret, stored.Envid));
        Assert.Equal("cleartext", stored.Transport);
        Assert.Null(stored.TlsVersion);
        Assert.Equal("client.example", stored.ClientHelo);
        Assert.Equal([new StoredRecipient(Rcpt, "SUCCESS,FAILURE", $"rfc822;{Rcpt}"), new StoredRecipient("other@hosted.example", null, null)],
            stored.Recipients);
        Assert.StartsWith("Received: from client.example ([127.0.0.1])\r\n\tby mx.test.example (Relay) with ESMTP\r\n", stored.Body);
        Assert.DoesNotContain("ESMTPS", stored.Body);
        Assert.EndsWith("\r\nSubject: hi\r\n\r\nhello\r\n.dot\r\n", stored.Body);
        Assert.Equal(221, (await client.CommandAsync("QUIT")).Code);
    }

    [Fact]
    public async Task Helo_noop_vrfy_help_rset_answer_with_enhanced_codes()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        Assert.Equal("250 mx.test.example", (await client.CommandAsync("HELO client.example")).ToString());
        Assert.Equal("250 2.0.0 Ok", (await client.CommandAsync("NOOP")).ToString());
        Assert.StartsWith("252 2.0.0", (await client.CommandAsync("VRFY user")).ToString());
        Assert.StartsWith("214 2.0.0", (await client.CommandAsync("HELP")).ToString());
        Assert.Equal("250 2.0.0 Ok", (await client.CommandAsync("RSET")).ToString());
        Assert.StartsWith("221 2.0.0", (await client.CommandAsync("QUIT")).ToString());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task Commands_out_of_sequence_get_503_5_5_1()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        Assert.StartsWith("503 5.5.1", (await client.CommandAsync("MAIL FROM:<a@b.example>")).ToString());
        await client.CommandAsync("EHLO c");
        Assert.StartsWith("503 5.5.1", (await client.CommandAsync($"RCPT TO:<{Rcpt}>")).ToString());
        Assert.StartsWith("503 5.5.1", (await client.CommandAsync("DATA")).ToString());
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        Assert.StartsWith("503 5.5.1", (await client.CommandAsync("MAIL FROM:<a@b.example>")).ToString());
        Assert.StartsWith("554 5.5.1", (await client.CommandAsync("DATA")).ToString());
    }

    [Fact]
    public async Task A_too_long_command_line_gets_500_and_the_session_stays_in_sync()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        await client.SendAsync("NOOP " + new string('x', 2000) + "\r\n");
        Assert.Equal("500 5.5.2 Error: line too long", (await client.ReadReplyAsync()).ToString());
        Assert.Equal("250 2.0.0 Ok", (await client.CommandAsync("NOOP")).ToString());
        Assert.Equal(250, (await client.CommandAsync("NOOP " + new string('y', 505))).Code);
    }

    [Fact]
    public async Task Nul_and_non_ascii_in_commands_are_refused()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        await client.SendAsync("NO\0OP\r\n"u8.ToArray());
        Assert.StartsWith("500 5.5.2", (await client.ReadReplyAsync()).ToString());
        await client.SendAsync([.. "NOOP "u8.ToArray(), 0xc3, 0xa9, (byte)'\r', (byte)'\n']);
        Assert.StartsWith("501 5.5.2", (await client.ReadReplyAsync()).ToString());
        Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
    }

    [Fact]
    public async Task After_twenty_errors_the_session_ends_with_421_4_7_0()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        for (var i = 0; i < 20; i++) Assert.Equal(500, (await client.CommandAsync("BOGUS")).Code);
        Assert.StartsWith("421 4.7.0", (await client.ReadReplyAsync()).ToString());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task Size_over_the_limit_is_refused_at_mail_and_oversized_data_after_end_of_data_with_nothing_queued()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.MessageSizeLimit = 1000);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("size");
        await client.CommandAsync("EHLO c");
        Assert.StartsWith("552 5.3.4", (await client.CommandAsync($"MAIL FROM:<{sender}> SIZE=1001")).ToString());
        var reply = await SendMessageAsync(client, sender, Rcpt, "Subject: big\r\n\r\n" + string.Join("\r\n", Enumerable.Repeat(new string('x', 100), 20)));
        Assert.StartsWith("552 5.3.4", reply.ToString());
        Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
        Assert.Empty(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
    }

    [Fact]
    public async Task The_recipient_limit_answers_452_4_5_3_without_ending_the_session_and_duplicates_are_queued_once()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.RecipientLimit = 3);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("rcpts");
        await client.CommandAsync("EHLO c");
        await client.CommandAsync($"MAIL FROM:<{sender}>");
        for (var i = 0; i < 3; i++) Assert.Equal(250, (await client.CommandAsync($"RCPT TO:<u{i}@hosted.example>")).Code);
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<u0@HOSTED.example>")).Code);
        // Excess recipients are not errors: 30 of them (more than the error limit of 20) do not end the session.
        for (var i = 3; i < 33; i++) Assert.StartsWith("452 4.5.3", (await client.CommandAsync($"RCPT TO:<u{i}@hosted.example>")).ToString());
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync("Subject: x\r\n\r\nx\r\n.\r\n");
        Assert.Equal(250, (await client.ReadReplyAsync()).Code);
        Assert.Equal(3, Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender)).Recipients.Count);
    }

    [Fact]
    public async Task Too_many_received_headers_is_554_5_4_0()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.HopCountLimit = 5);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("hops");
        await client.CommandAsync("EHLO c");
        var headers = string.Concat(Enumerable.Repeat("Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n", 5));
        Assert.StartsWith("554 5.4.0", (await SendMessageAsync(client, sender, Rcpt, headers + "\r\nloop")).ToString());
        var four = string.Concat(Enumerable.Repeat("Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n", 4));
        Assert.Equal(250, (await SendMessageAsync(client, sender, Rcpt, four + "\r\nok")).Code);
        Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
    }

    [Fact]
    public async Task An_idle_client_gets_421_4_4_2()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.IdleTimeout = TimeSpan.FromMilliseconds(500));
        await using var client = await listener.ConnectAsync();
        Assert.StartsWith("421 4.4.2", (await client.ReadReplyAsync()).ToString());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task Bare_lf_reject_mode_refuses_with_550_5_5_2_after_the_real_end()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.BareLineEndings = Relay.Smtp.Server.BareLineEndingMode.Reject);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("barelf");
        await client.CommandAsync("EHLO c");
        Assert.StartsWith("550 5.5.2", (await SendMessageAsync(client, sender, Rcpt, "Subject: x\r\n\r\na\nb")).ToString());
        Assert.Empty(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
    }

    [Fact]
    public async Task Bdat_chunks_are_queued_without_dot_unstuffing()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("bdat");
        await client.CommandAsync("EHLO c");
        // CHUNKING may be pipelined (RFC 3030): the whole transaction in one write.
        var first = "Subject: chunks\r\n\r\n";
        var second = "..not unstuffed\r\n.\r\n";
        await client.SendAsync($"MAIL FROM:<{sender}>\r\nRCPT TO:<{Rcpt}>\r\nBDAT {first.Length}\r\n{first}BDAT {second.Length} LAST\r\n{second}");
        Assert.Equal(250, (await client.ReadReplyAsync()).Code);
        Assert.Equal(250, (await client.ReadReplyAsync()).Code);
        Assert.StartsWith($"250 2.0.0 Ok: {first.Length} octets", (await client.ReadReplyAsync()).ToString());
        Assert.StartsWith("250 2.0.0 Ok: queued as", (await client.ReadReplyAsync()).ToString());
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.EndsWith("\r\nSubject: chunks\r\n\r\n..not unstuffed\r\n.\r\n", stored.Body);
        Assert.Equal(503, (await client.CommandAsync("DATA")).Code);
    }

    [Fact]
    public async Task A_text_line_over_1000_octets_is_refused_consistently_with_550_5_6_0()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("longline");
        await client.CommandAsync("EHLO c");
        Assert.StartsWith("550 5.6.0", (await SendMessageAsync(client, sender, Rcpt, "Subject: x\r\n\r\n" + new string('a', 999))).ToString());
        Assert.Equal(250, (await SendMessageAsync(client, sender, Rcpt, "Subject: x\r\n\r\n" + new string('a', 998))).Code);
        Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
    }

    [Fact]
    public async Task A_bdat_chunk_larger_than_the_size_limit_is_refused_and_the_session_ends()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.MessageSizeLimit = 1000);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("bigchunk");
        await client.CommandAsync("EHLO c");
        await client.CommandAsync($"MAIL FROM:<{sender}>");
        await client.CommandAsync($"RCPT TO:<{Rcpt}>");
        Assert.StartsWith("552 5.3.4", (await client.CommandAsync("BDAT 1000000 LAST")).ToString());
        Assert.True(await client.IsClosedAsync());
        Assert.Empty(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
    }

    [Fact]
    public async Task A_transaction_written_one_octet_at_a_time_is_accepted()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("octets");
        async Task<RawReply> Slowly(string text)
        {
            foreach (var b in System.Text.Encoding.ASCII.GetBytes(text)) await client.SendAsync([b]);
            return await client.ReadReplyAsync();
        }
        Assert.Equal(250, (await Slowly("EHLO c\r\n")).Code);
        Assert.Equal(250, (await Slowly($"MAIL FROM:<{sender}>\r\n")).Code);
        Assert.Equal(250, (await Slowly($"RCPT TO:<{Rcpt}>\r\n")).Code);
        Assert.Equal(354, (await Slowly("DATA\r\n")).Code);
        Assert.Equal(250, (await Slowly("Subject: slow\r\n\r\n.\n.\r\n..\r\n.\r\n")).Code);
        // ".\n" is an unstuffed empty line ended by a bare LF; the "." after that bare LF is kept verbatim; ".." unstuffs to ".".
        Assert.EndsWith("Subject: slow\r\n\r\n\r\n.\r\n.\r\n", Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender)).Body);
    }

    [Fact]
    public async Task Binarymime_is_not_offered_and_refused_because_the_queue_holds_crlf_lines_only()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        Assert.DoesNotContain("BINARYMIME", (await client.CommandAsync("EHLO c")).Lines);
        Assert.StartsWith("555 5.5.4", (await client.CommandAsync("MAIL FROM:<a@b.example> BODY=BINARYMIME")).ToString());
    }

    [Fact]
    public async Task Bare_line_endings_in_bdat_chunks_are_stored_as_crlf()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("bdat-bare");
        await client.CommandAsync("EHLO c");
        await client.CommandAsync($"MAIL FROM:<{sender}> BODY=8BITMIME");
        await client.CommandAsync($"RCPT TO:<{Rcpt}>");
        var content = "Subject: bare\r\n\r\na\nb\rc\r";
        await client.SendAsync($"BDAT {content.Length} LAST\r\n{content}");
        Assert.StartsWith("250 2.0.0 Ok: queued as", (await client.ReadReplyAsync()).ToString());
        Assert.EndsWith("Subject: bare\r\n\r\na\r\nb\r\nc\r\n", Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender)).Body);
    }

    [Fact]
    public async Task An_ipv6_client_is_recorded_with_an_ipv6_address_literal()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.Listen = [new System.Net.IPEndPoint(System.Net.IPAddress.IPv6Loopback, 0)]);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("ipv6");
        await client.CommandAsync("EHLO v6.example");
        Assert.Equal(250, (await SendMessageAsync(client, sender, Rcpt, "Subject: v6\r\n\r\nx")).Code);
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.StartsWith("Received: from v6.example ([IPv6:::1])", stored.Body);
    }

    [Fact]
    public async Task Utf8_sender_with_smtputf8_is_stored_with_the_flag()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = "j\u00f6rg-" + Guid.NewGuid().ToString("N") + "@sender.example";
        await client.CommandAsync("EHLO c");
        Assert.Equal(250, (await client.CommandAsync($"MAIL FROM:<{sender}> SMTPUTF8")).Code);
        Assert.Equal(250, (await client.CommandAsync("RCPT TO:<\u00fcser@hosted.example>")).Code);
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync("Subject: utf8\r\n\r\nx\r\n.\r\n");
        Assert.Equal(250, (await client.ReadReplyAsync()).Code);
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.True(stored.SmtpUtf8);
    }
}
