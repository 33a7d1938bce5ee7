using System.Diagnostics;
using System.Net;
using System.Text;
using Relay.Db;
using Relay.TestKit.Postgres;
using Relay.TestKit.Smtp;
using Xunit.Abstractions;

namespace Relay.Inbound.Tests;

/// <summary>
/// Per-client rates (anvil's model), AUTH guessing, oversized input and random bytes, against a real listener. The
/// rate tests clear Relay:Smtp:RateLimitExceptions, whose default exempts loopback (where every test client is).
/// </summary>
public class AbuseLimitsTests(DatabaseFixture fixture, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    private const string Password = "correct horse battery staple";

    private static string Plain(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    [Fact]
    public async Task Auth_guessing_is_slowed_then_locked_out_with_421_and_new_connections_are_refused_until_the_window_ends()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o =>
        {
            o.Submission = [new IPEndPoint(IPAddress.Loopback, 0)];
            o.Credentials = new Dictionary<string, string> { ["alice"] = PasswordHasher.Hash(Password, PasswordHasher.MinimumIterations) };
            o.AuthFailureLimit = 3;
            o.RateLimitExceptions = [];
        });
        var from = IPAddress.Parse("127.0.14.1");
        await using var client = await listener.ConnectAsync(listener.Role.SubmissionEndpoints[0], from);
        await client.CommandAsync("EHLO guesser");
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        await client.CommandAsync("EHLO guesser");
        var delays = new List<double>();
        for (var guess = 1; guess <= 2; guess++)
        {
            var clock = Stopwatch.StartNew();
            Assert.StartsWith("535 5.7.8", (await client.CommandAsync("AUTH PLAIN " + Plain("alice", $"guess{guess}"))).ToString());
            delays.Add(clock.Elapsed.TotalSeconds);
        }
        var locked = await client.CommandAsync("AUTH PLAIN " + Plain("alice", "guess3"));
        output.WriteLine($"535 after {string.Join(" s, ", delays.Select(d => d.ToString("0.00")))} s; third failure: {locked}");
        Assert.StartsWith("421 4.7.0", locked.ToString());
        Assert.True(await client.IsClosedAsync());
        Assert.True(delays[1] > delays[0] && delays[0] >= 0.2, "each failure waits longer");

        // Locked out: even the right password does not get a session from that address; others are unaffected.
        await using var again = await RawSmtpClient.ConnectAsync(listener.Role.SubmissionEndpoints[0], localAddress: from);
        Assert.StartsWith("421 4.7.0", (await again.ReadReplyAsync()).ToString());
        await using var port25 = await listener.ConnectAsync(from: from);
        Assert.Equal(250, (await port25.CommandAsync("EHLO guesser")).Code);
        await using var other = await listener.ConnectAsync(listener.Role.SubmissionEndpoints[0], IPAddress.Parse("127.0.14.2"));
        Assert.Equal(250, (await other.CommandAsync("EHLO other")).Code);
    }

    [Fact]
    public async Task A_client_over_its_connection_rate_gets_421_and_a_trusted_network_is_not_counted()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o =>
        {
            o.ConnectionRateLimit = 3;
            o.RateLimitExceptions = ["127.0.15.2/32"];
        });
        var limited = IPAddress.Parse("127.0.15.1");
        for (var i = 0; i < 3; i++)
        {
            await using var ok = await listener.ConnectAsync(from: limited);
            await ok.CommandAsync("QUIT");
        }
        await using var fourth = await RawSmtpClient.ConnectAsync(listener.Endpoint, localAddress: limited);
        var reply = await fourth.ReadReplyAsync();
        output.WriteLine($"4th connection within a minute: {reply}");
        Assert.StartsWith("421 4.7.0", reply.ToString());
        for (var i = 0; i < 5; i++)
        {
            await using var exempt = await listener.ConnectAsync(from: IPAddress.Parse("127.0.15.2"));
            await exempt.CommandAsync("QUIT");
        }
    }

    [Fact]
    public async Task A_client_over_its_message_rate_gets_450_4_7_1_at_mail_and_the_session_carries_on()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => { o.MessageRateLimit = 2; o.RateLimitExceptions = []; });
        await using var client = await listener.ConnectAsync(from: IPAddress.Parse("127.0.16.1"));
        await client.CommandAsync("EHLO sender");
        var sender = QueueRows.UniqueSender("rate");
        for (var i = 0; i < 2; i++)
            Assert.Equal(250, (await ProtocolTests.SendMessageAsync(client, sender, "someone@hosted.example", "Subject: r\r\n\r\nhi")).Code);
        Assert.StartsWith("450 4.7.1", (await client.CommandAsync($"MAIL FROM:<{sender}>")).ToString());
        Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
        Assert.Equal(2, (await QueueRows.FromSenderAsync(fixture.ConnectionString, sender)).Count);
    }

    [Fact]
    public async Task An_oversized_header_gets_552_and_the_next_message_is_accepted()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.HeaderSizeLimit = 2048);
        await using var client = await listener.ConnectAsync();
        await client.CommandAsync("EHLO c");
        var sender = QueueRows.UniqueSender("header");
        var fields = string.Concat(Enumerable.Range(0, 40).Select(i => $"X-Filler-{i}: {new string('x', 60)}\r\n"));
        var refused = await ProtocolTests.SendMessageAsync(client, sender, "someone@hosted.example", fields + "Subject: big\r\n\r\nbody");
        Assert.StartsWith("552 5.3.4", refused.ToString());
        Assert.Equal(250, (await ProtocolTests.SendMessageAsync(client, sender, "someone@hosted.example", "Subject: small\r\n\r\nbody")).Code);
        Assert.Single(await QueueRows.FromSenderAsync(fixture.ConnectionString, sender));
    }

    [Fact]
    public async Task Content_beyond_the_shared_memory_budget_gets_451_4_3_1_and_the_budget_is_given_back()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.DataMemoryLimit = 1024 * 1024);
        await using var client = await listener.ConnectAsync();
        await client.CommandAsync("EHLO c");
        var sender = QueueRows.UniqueSender("memory");
        var line = new string('m', 998) + "\r\n";
        var big = "Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(line, 2 * 1024)); // 2 MiB, under MessageSizeLimit
        var refused = await ProtocolTests.SendMessageAsync(client, sender, "someone@hosted.example", big);
        output.WriteLine($"2 MiB message with a 1 MiB budget: {refused}; content held afterwards {listener.Role.Load.ContentBytes} octets, peak {listener.Role.Load.PeakContentBytes}");
        Assert.StartsWith("451 4.3.1", refused.ToString());
        Assert.Equal(250, (await ProtocolTests.SendMessageAsync(client, sender, "someone@hosted.example", "Subject: small\r\n\r\nhi")).Code);
        Assert.Equal(0, listener.Role.Load.ContentBytes);
        Assert.InRange(listener.Role.Load.PeakContentBytes, 1, 1024 * 1024);
    }

    [Fact]
    public async Task Random_bytes_and_an_endless_command_line_get_replies_then_421_and_the_listener_keeps_serving()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        await using (var noise = await listener.ConnectAsync())
        {
            // 100 KiB without a line end is one "line too long", then seeded noise until the error limit ends the session.
            await noise.SendAsync(new string('A', 100 * 1024) + "\r\n");
            Assert.StartsWith("500 5.5.2", (await noise.ReadReplyAsync()).ToString());
            var random = new Random(13);
            var bytes = new byte[64 * 1024];
            random.NextBytes(bytes);
            var replies = 0;
            RawReply? last = null;
            try
            {
                await noise.SendAsync(bytes);
                for (; replies < 100; replies++)
                {
                    last = await noise.ReadReplyAsync();
                    if (last.Code == 421) break;
                }
            }
            catch (Exception e) when (e is IOException or EndOfStreamException) { }
            output.WriteLine($"64 KiB of random bytes: {replies} replies, last {last}; listener holds {listener.Role.Load.Sessions} session(s)");
            Assert.True(last is null || last.Code is 421 or >= 500, $"unexpected reply {last}");
        }
        await using var client = await listener.ConnectAsync();
        Assert.Equal(250, (await client.CommandAsync("EHLO after-noise")).Code);
        Assert.Equal(0, listener.Role.Load.ContentBytes);
    }
}
