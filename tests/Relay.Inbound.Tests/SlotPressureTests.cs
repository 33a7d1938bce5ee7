using System.Diagnostics;
using System.Net;
using Relay.TestKit.Postgres;
using Relay.TestKit.Smtp;
using Xunit.Abstractions;

namespace Relay.Inbound.Tests;

/// <summary>
/// Slot exhaustion and slow clients against a real listener: stress mode's short idle timeout, room made for a new
/// client by ending the longest-idle session that has no transaction, per-client limits kept, and a command line
/// trickled a byte at a time (slowloris) ended by the idle timeout counted from the previous command.
/// </summary>
public class SlotPressureTests(DatabaseFixture fixture, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task When_every_slot_is_taken_the_longest_idle_session_without_a_transaction_makes_room()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.ConnectionLimit = 4);
        var silent = new List<RawSmtpClient>();
        for (var i = 0; i < 3; i++) { silent.Add(await listener.ConnectAsync()); await Task.Delay(30); }
        // The fourth is in a transaction: it must never be the one that makes room.
        var busy = await listener.ConnectAsync();
        await busy.CommandAsync("EHLO busy");
        Assert.Equal(250, (await busy.CommandAsync("MAIL FROM:<busy@sender.example>")).Code);

        await using var newcomer = await listener.ConnectAsync();
        var told = await silent[0].ReadReplyAsync();
        output.WriteLine($"oldest silent session was told: {told}");
        Assert.StartsWith("421 4.7.0", told.ToString());
        Assert.True(await silent[0].IsClosedAsync());
        Assert.Equal(250, (await newcomer.CommandAsync("EHLO newcomer")).Code);
        Assert.Equal(250, (await busy.CommandAsync("RCPT TO:<someone@hosted.example>")).Code);
        Assert.Equal(250, (await silent[1].CommandAsync("NOOP")).Code);
        foreach (var client in silent.Skip(1)) await client.DisposeAsync();
        await busy.DisposeAsync();
    }

    [Fact]
    public async Task When_every_session_is_in_a_transaction_a_new_client_gets_421_too_many_connections()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.ConnectionLimit = 2);
        var busy = new List<RawSmtpClient>();
        for (var i = 0; i < 2; i++)
        {
            var client = await listener.ConnectAsync();
            await client.CommandAsync("EHLO busy");
            Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<busy@sender.example>")).Code);
            busy.Add(client);
        }
        await using var refused = await RawSmtpClient.ConnectAsync(listener.Endpoint);
        Assert.StartsWith("421 4.7.0 Error: too many connections", (await refused.ReadReplyAsync()).ToString());
        foreach (var client in busy) Assert.Equal(250, (await client.CommandAsync("RCPT TO:<someone@hosted.example>")).Code);
        foreach (var client in busy) await client.DisposeAsync();
    }

    [Fact]
    public async Task A_client_at_its_own_limit_is_refused_and_ends_nobody_elses_session()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => { o.ConnectionLimit = 3; o.ConnectionLimitPerClient = 2; });
        var from = IPAddress.Parse("127.0.13.1");
        await using var other = await listener.ConnectAsync(from: IPAddress.Parse("127.0.13.2"));
        await using var first = await listener.ConnectAsync(from: from);
        await using var second = await listener.ConnectAsync(from: from);
        await using var third = await RawSmtpClient.ConnectAsync(listener.Endpoint, localAddress: from);
        Assert.StartsWith("421 4.7.0 Error: too many connections from your address", (await third.ReadReplyAsync()).ToString());
        Assert.Equal(250, (await other.CommandAsync("NOOP")).Code);
        Assert.Equal(250, (await first.CommandAsync("NOOP")).Code);
    }

    // Stress mode lasts only while the load is at the threshold: one sweep ends every session then idle too long, which
    // can bring the load below it, and the sessions that connected later keep the normal idle timeout. So the test asks
    // for what must hold however the sweeps fall: the load ends below the threshold, the longest-idle silent session
    // (the first one) got the stress 421, and the session in a transaction carries on.
    [Fact]
    public async Task Under_stress_idle_sessions_without_a_transaction_get_the_short_timeout_and_a_transaction_keeps_its_session()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o =>
        {
            o.ConnectionLimit = 10;
            o.StressThresholdPercent = 80;
            o.StressIdleTimeout = TimeSpan.FromSeconds(1);
        });
        var silent = new List<RawSmtpClient>();
        for (var i = 0; i < 7; i++) silent.Add(await listener.ConnectAsync());
        var busy = await listener.ConnectAsync();
        await busy.CommandAsync("EHLO busy");
        Assert.Equal(250, (await busy.CommandAsync("MAIL FROM:<busy@sender.example>")).Code);
        output.WriteLine($"load before the sweep: {listener.Role.Load}");
        Assert.True(listener.Role.Load.Sessions >= 8, "8 of 10 slots: stress mode");

        var clock = Stopwatch.StartNew();
        Assert.StartsWith("421 4.4.2", (await silent[0].ReadReplyAsync()).ToString());
        for (var i = 0; i < 100 && listener.Role.Load.Sessions >= 8; i++) await Task.Delay(50);   // at most 5 s
        output.WriteLine($"stress mode ended idle sessions until the load was {listener.Role.Load.Sessions}/10, after {clock.Elapsed.TotalSeconds:0.0} s " +
            $"(StressIdleTimeout 1 s, IdleTimeout {listener.Options.IdleTimeout.TotalSeconds} s)");
        Assert.True(listener.Role.Load.Sessions < 8, "below the threshold once the idle sessions were ended");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        // The session in a transaction was left alone and carries on.
        Assert.Equal(250, (await busy.CommandAsync("RCPT TO:<someone@hosted.example>")).Code);
        foreach (var client in silent) await client.DisposeAsync();
        await busy.DisposeAsync();
    }

    [Fact]
    public async Task A_command_trickled_a_byte_at_a_time_ends_at_the_idle_timeout_counted_from_the_previous_command()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database, o => o.IdleTimeout = TimeSpan.FromSeconds(2));
        await using var client = await listener.ConnectAsync();
        var clock = Stopwatch.StartNew();
        RawReply? reply = null;
        // A byte every 300 ms would reset a per-read timeout for ever; bounded here to 20 bytes (6 s).
        var trickle = "EHLO slowloris.example.with.a.long.name\r\n";
        for (var i = 0; i < 20 && reply is null; i++)
        {
            try { await client.SendAsync(trickle[i].ToString()); }
            catch (IOException) { break; }
            await Task.Delay(300);
            if (clock.Elapsed > TimeSpan.FromSeconds(2.5)) break;
        }
        reply = await client.ReadReplyAsync();
        output.WriteLine($"slowloris told {reply} after {clock.Elapsed.TotalSeconds:0.0} s (IdleTimeout 2 s)");
        Assert.StartsWith("421 4.4.2", reply.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4));
    }
}
