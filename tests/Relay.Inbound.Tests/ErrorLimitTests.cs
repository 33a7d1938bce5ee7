using System.Diagnostics;
using Relay.TestKit.Postgres;
using Relay.TestKit.Smtp;
using Xunit.Abstractions;

namespace Relay.Inbound.Tests;

/// <summary>
/// Postfix's per-session error limits against a real listener and a real client over loopback: the hard limit ends
/// the session with 421 4.7.0 right after the reply to the error that reached it (before another command is read, as
/// smtpd does), the soft limit delays every later reply, junk commands (NOOP, RSET, HELO…) become errors past their
/// limit, a message accepted forgives, stress mode lowers the hard and junk limits to 1, and trusted clients get no
/// exemption. Delays are checked from below only (at least ErrorSleep), which a loaded machine cannot make fail.
/// </summary>
public class ErrorLimitTests(DatabaseFixture fixture, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    private const string Bad = "XYZZY";

    [Fact]
    public async Task The_twentieth_error_is_answered_then_421_follows_and_the_connection_closes_even_for_a_trusted_client()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o =>
        {
            o.TrustedNetworks = ["127.0.0.0/8"];
            o.ErrorSleep = TimeSpan.FromMilliseconds(5);
        });
        await using var client = await listener.ConnectAsync();
        for (var i = 1; i <= 19; i++) Assert.Equal(500, (await client.CommandAsync(Bad)).Code);
        // Nineteen errors: still served.
        Assert.Equal(250, (await client.CommandAsync("EHLO client.example")).Code);
        Assert.StartsWith("500 5.5.2", (await client.CommandAsync(Bad)).ToString());
        // Not asked for: the 421 comes before the next command is read, so whatever the client sends 21st gets no other answer.
        Assert.StartsWith("421 4.7.0 Error: too many errors", (await client.ReadReplyAsync()).ToString());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task From_the_soft_limit_on_every_reply_waits_at_least_the_error_sleep()
    {
        var sleep = TimeSpan.FromMilliseconds(400);
        await using var listener = await TestListener.StartAsync(fixture.Database, o =>
        {
            o.SoftErrorLimit = 3;
            o.ErrorSleep = sleep;
            o.ErrorLimit = 6;
        });
        await using var client = await listener.ConnectAsync();
        var times = new List<(string Command, int Errors, TimeSpan Took, int Code)>();
        async Task TimeAsync(string command, int errorsBefore)
        {
            var clock = Stopwatch.StartNew();
            var reply = await client.CommandAsync(command);
            times.Add((command, errorsBefore, clock.Elapsed, reply.Code));
        }
        for (var i = 0; i < 3; i++) await TimeAsync(Bad, i);
        // Three errors made: every reply now waits, good commands' too (Postfix's "sleep on anything").
        await TimeAsync("NOOP", 3);
        await TimeAsync(Bad, 3);
        await TimeAsync("EHLO client.example", 4);
        await TimeAsync(Bad, 4);
        await TimeAsync(Bad, 5);
        foreach (var t in times) output.WriteLine($"{t.Command} after {t.Errors} error(s): {t.Code} in {t.Took.TotalMilliseconds:0} ms");
        Assert.Equal([500, 500, 500, 250, 500, 250, 500, 500], times.Select(t => t.Code));
        // A timer may fire a tick early; 10 ms below the sleep still proves the wait.
        Assert.All(times.Where(t => t.Errors >= 3), t => Assert.True(t.Took >= sleep - TimeSpan.FromMilliseconds(10), $"{t.Command} after {t.Errors} errors took {t.Took}"));
        var farewell = Stopwatch.StartNew();
        Assert.StartsWith("421 4.7.0", (await client.ReadReplyAsync()).ToString());
        Assert.True(await client.IsClosedAsync());
        output.WriteLine($"421 after {farewell.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_noop_flood_is_free_up_to_the_junk_limit_then_each_noop_is_an_error_and_the_twentieth_ends_the_session()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.ErrorSleep = TimeSpan.FromMilliseconds(5));
        await using var client = await listener.ConnectAsync();
        Assert.Equal(250, (await client.CommandAsync("EHLO flooder.example")).Code);
        var answered = 1; // EHLO is junk too
        RawReply reply;
        // Bounded: 121 junk commands end the session (101 free as in Postfix's `junk_cmds++ > 100`, then 20 errors).
        for (var i = 0; i < 200; i++)
        {
            reply = await client.CommandAsync(i % 2 == 0 ? "NOOP" : "RSET");
            Assert.Equal(250, reply.Code);
            answered++;
            if (answered == 121) break;
        }
        Assert.StartsWith("421 4.7.0 Error: too many errors", (await client.ReadReplyAsync()).ToString());
        Assert.True(await client.IsClosedAsync());
    }

    [Fact]
    public async Task Junk_below_the_limit_costs_nothing()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => { o.JunkCommandLimit = 5; o.ErrorLimit = 2; });
        await using var client = await listener.ConnectAsync();
        // Limit 5: six junk commands are free (Postfix counts from 0 and compares after), the seventh is an error. EHLO
        // is junk too, and MAIL needs it first: EHLO and six NOOPs make the seven.
        Assert.Equal(250, (await client.CommandAsync("EHLO sender.example")).Code);
        for (var i = 0; i < 6; i++) Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<still@served.example>")).Code);
        Assert.Equal(500, (await client.CommandAsync(Bad)).Code);
        Assert.StartsWith("421 4.7.0", (await client.ReadReplyAsync()).ToString());
    }

    [Fact]
    public async Task A_message_accepted_forgives_the_errors_before_it()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.ErrorLimit = 3);
        await using var client = await listener.ConnectAsync();
        Assert.Equal(250, (await client.CommandAsync("EHLO sender.example")).Code);
        for (var i = 0; i < 2; i++) Assert.Equal(500, (await client.CommandAsync(Bad)).Code);
        var queued = await ProtocolTests.SendMessageAsync(client, "a@sender.example", "user@" + TestListener.Hosted, "Subject: forgiven\r\n\r\nbody");
        Assert.Equal(250, queued.Code);
        for (var i = 0; i < 2; i++) Assert.Equal(500, (await client.CommandAsync(Bad)).Code);
        Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
        Assert.Equal(500, (await client.CommandAsync(Bad)).Code);
        Assert.StartsWith("421 4.7.0", (await client.ReadReplyAsync()).ToString());
    }

    [Fact]
    public async Task Under_stress_one_error_or_the_third_junk_command_ends_the_session()
    {
        // Threshold 10% of 10 slots: the one test session alone puts the listener in stress mode.
        await using var listener = await TestListener.StartAsync(fixture.Database, o => { o.ConnectionLimit = 10; o.StressThresholdPercent = 10; });
        await using (var erring = await listener.ConnectAsync())
        {
            Assert.Equal(500, (await erring.CommandAsync(Bad)).Code);
            Assert.StartsWith("421 4.7.0 Error: too many errors", (await erring.ReadReplyAsync()).ToString());
            Assert.True(await erring.IsClosedAsync());
        }
        await using var junk = await listener.ConnectAsync();
        for (var i = 0; i < 3; i++) Assert.Equal(250, (await junk.CommandAsync("NOOP")).Code);
        Assert.StartsWith("421 4.7.0", (await junk.ReadReplyAsync()).ToString());
        Assert.True(await junk.IsClosedAsync());
    }
}
