using Relay.TestKit.Postgres;

namespace Relay.Inbound.Tests;

public class LifecycleTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Stopping_ends_idle_sessions_with_421_and_closes_the_port()
    {
        var listener = await TestListener.StartAsync(fixture.Database);
        var endpoint = listener.Endpoint;
        await using var client = await listener.ConnectAsync();
        await client.CommandAsync("EHLO c");
        var stop = listener.Role.StopAsync(TimeSpan.FromMilliseconds(200));
        Assert.StartsWith("421 4.3.2", (await client.ReadReplyAsync()).ToString());
        await stop;
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(async () =>
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync(endpoint);
        });
        await listener.DisposeAsync();
    }

    [Fact]
    public async Task A_message_in_progress_when_stopping_is_still_accepted_within_the_drain_time()
    {
        var listener = await TestListener.StartAsync(fixture.Database);
        await using var idle = await listener.ConnectAsync();
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("drain");
        await client.CommandAsync("EHLO c");
        await client.CommandAsync($"MAIL FROM:<{sender}>");
        await client.CommandAsync("RCPT TO:<u@hosted.example>");
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        await client.SendAsync("Subject: drain\r\n\r\nfirst half\r\n");
        var stop = listener.Role.StopAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("421 4.3.2", (await idle.ReadReplyAsync()).ToString());
        await client.SendAsync("second half\r\n.\r\n");
        Assert.StartsWith("250 2.0.0 Ok: queued as", (await client.ReadReplyAsync()).ToString());
        Assert.StartsWith("421 4.3.2", (await client.ReadReplyAsync()).ToString());
        await stop;
        await listener.DisposeAsync();
        Assert.EndsWith("first half\r\nsecond half\r\n", Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender)).Body);
    }

    [Fact]
    public async Task Many_concurrent_clients_each_get_every_message_queued_exactly_once()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        var sender = QueueRows.UniqueSender("concurrent");
        var ids = await Task.WhenAll(Enumerable.Range(0, 16).Select(async c =>
        {
            await using var client = await listener.ConnectAsync();
            await client.CommandAsync("EHLO c");
            var replies = new List<string>();
            for (var m = 0; m < 5; m++)
            {
                var reply = await ProtocolTests.SendMessageAsync(client, sender, "u@hosted.example", $"Subject: {c}/{m}\r\n\r\nbody {c}/{m}");
                Assert.Equal(250, reply.Code);
                replies.Add(reply.Text.Split(' ')[^1]);
            }
            return replies;
        }));
        var stored = await QueueRows.FromSenderAsync(fixture.ConnectionString, sender);
        Assert.Equal(80, stored.Count);
        Assert.Equal(ids.SelectMany(i => i).Order(), stored.Select(s => s.QueueId).Order());
        Assert.Equal(80, stored.Select(s => s.Body[s.Body.IndexOf("Subject:", StringComparison.Ordinal)..]).Distinct().Count());
    }

    [Fact]
    public async Task A_client_sending_data_slower_than_the_minimum_rate_gets_421_4_4_2()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o =>
        {
            o.DataTimeout = TimeSpan.FromMilliseconds(500);
            o.MinimumDataRate = 1000;
        });
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("slow");
        await client.CommandAsync("EHLO c");
        await client.CommandAsync($"MAIL FROM:<{sender}>");
        await client.CommandAsync("RCPT TO:<u@hosted.example>");
        Assert.Equal(354, (await client.CommandAsync("DATA")).Code);
        var reply = Task.Run(client.ReadReplyAsync);
        for (var i = 0; i < 40 && !reply.IsCompleted; i++)
        {
            try { await client.SendAsync("x"); } catch (IOException) { break; }
            await Task.Delay(100);
        }
        Assert.StartsWith("421 4.4.2", (await reply).ToString());
        Assert.Empty(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
    }

    [Fact]
    public async Task A_two_megabyte_message_is_queued_byte_exact()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("large");
        await client.CommandAsync("EHLO c");
        var line = new string('a', 76) + "\r\n";
        var content = "Subject: large\r\n\r\n" + string.Concat(Enumerable.Repeat(line, 2_000_000 / line.Length));
        Assert.Equal(250, (await ProtocolTests.SendMessageAsync(client, sender, "u@hosted.example", content.TrimEnd('\r', '\n'))).Code);
        var stored = Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
        Assert.EndsWith(content, stored.Body);
    }
}
