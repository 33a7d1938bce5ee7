using System.Net;
using Relay.TestKit.Postgres;
using Relay.TestKit.Smtp;

namespace Relay.Inbound.Tests;

public class PipeliningTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_client_that_talks_before_the_greeting_gets_554_5_5_0_and_is_dropped()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.GreetingDelay = TimeSpan.FromMilliseconds(300));
        await using var client = await RawSmtpClient.ConnectAsync(listener.Endpoint);
        await client.SendAsync("EHLO early.example\r\n");
        Assert.StartsWith("554 5.5.0", (await client.ReadReplyAsync()).ToString());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task A_patient_client_is_greeted_after_the_delay()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.GreetingDelay = TimeSpan.FromMilliseconds(200));
        await using var client = await listener.ConnectAsync();
        Assert.Equal(250, (await client.CommandAsync("EHLO patient.example")).Code);
    }

    [Fact]
    public async Task Commands_pipelined_behind_ehlo_get_554_5_5_0_and_the_session_is_dropped()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        await client.SendAsync("EHLO c\r\nMAIL FROM:<a@b.example>\r\n");
        Assert.StartsWith("554 5.5.0", (await client.ReadReplyAsync()).ToString());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task Pipelining_without_ehlo_is_refused()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        Assert.Equal(250, (await client.CommandAsync("HELO c")).Code);
        await client.SendAsync("MAIL FROM:<a@b.example>\r\nRCPT TO:<u@hosted.example>\r\n");
        Assert.StartsWith("554 5.5.0", (await client.ReadReplyAsync()).ToString());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task Content_pipelined_behind_data_before_354_is_refused()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("early-data");
        await client.CommandAsync("EHLO c");
        await client.SendAsync($"MAIL FROM:<{sender}>\r\nRCPT TO:<u@hosted.example>\r\nDATA\r\nSubject: x\r\n\r\nx\r\n.\r\n");
        Assert.Equal(250, (await client.ReadReplyAsync()).Code);
        Assert.Equal(250, (await client.ReadReplyAsync()).Code);
        Assert.StartsWith("554 5.5.0", (await client.ReadReplyAsync()).ToString());
        Assert.Empty(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
    }

    [Fact]
    public async Task Rfc2920_pipelined_mail_rcpt_data_after_ehlo_is_accepted()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("pipelined");
        await client.CommandAsync("EHLO c");
        await client.SendAsync($"MAIL FROM:<{sender}>\r\nRCPT TO:<a@hosted.example>\r\nRCPT TO:<b@hosted.example>\r\nDATA\r\n");
        for (var i = 0; i < 3; i++) Assert.Equal(250, (await client.ReadReplyAsync()).Code);
        Assert.Equal(354, (await client.ReadReplyAsync()).Code);
        // End of data followed by a pipelined QUIT, as real clients do.
        await client.SendAsync("Subject: x\r\n\r\nx\r\n.\r\nQUIT\r\n");
        Assert.Equal(250, (await client.ReadReplyAsync()).Code);
        Assert.Equal(221, (await client.ReadReplyAsync()).Code);
        Assert.Equal(2, Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender)).Recipients.Count);
    }

    [Fact]
    public async Task The_per_client_connection_limit_answers_421_and_frees_up_after_a_close()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.ConnectionLimitPerClient = 2);
        await using var first = await listener.ConnectAsync();
        await using var second = await listener.ConnectAsync();
        await using (var third = await RawSmtpClient.ConnectAsync(listener.Endpoint))
        {
            Assert.StartsWith("421 4.7.0", (await third.ReadReplyAsync()).ToString());
            Assert.True(await third.IsClosedAsync());
        }
        // Another address is counted separately.
        await using (var other = await listener.ConnectAsync(from: IPAddress.Parse("127.0.0.2")))
            Assert.Equal(250, (await other.CommandAsync("NOOP")).Code);
        Assert.Equal(221, (await first.CommandAsync("QUIT")).Code);
        Assert.True(await first.IsClosedAsync());
        RawSmtpClient? fourth = null;
        for (var attempt = 0; attempt < 50 && fourth is null; attempt++)
        {
            var candidate = await RawSmtpClient.ConnectAsync(listener.Endpoint);
            if ((await candidate.ReadReplyAsync()).Code == 220) fourth = candidate;
            else { await candidate.DisposeAsync(); await Task.Delay(50); }
        }
        Assert.NotNull(fourth);
        await fourth.DisposeAsync();
    }
}
