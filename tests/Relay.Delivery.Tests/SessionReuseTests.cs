using System.Diagnostics;
using System.Net;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>Per-destination concurrency and reuse of idle sessions across batches, against real sockets.</summary>
public class SessionReuseTests
{
    private const string Sender = "alice@origin.test";

    [Fact]
    public async Task Sessions_to_one_next_hop_never_exceed_the_destination_limit_with_more_workers_than_the_limit()
    {
        var (limited, _) = await RunTwelveSlowMessagesAsync(limit: 2);
        Assert.Equal(2, limited); // reached, and never more

        // The same run without a binding limit shows the counter sees parallel sessions when they happen.
        var (unlimited, _) = await RunTwelveSlowMessagesAsync(limit: 6);
        Assert.True(unlimited > 2, $"expected more than 2 parallel sessions without the limit, saw {unlimited}");
    }

    private static async Task<(int MaxConcurrent, int Connections)> RunTwelveSlowMessagesAsync(int limit)
    {
        await using var h = await Harness.CreateAsync();
        // The slow end of data keeps sessions busy long enough to overlap.
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            OfferStartTls = false,
            DataReply = _ => { Thread.Sleep(300); return "250 2.0.0 queued"; },
        });
        await using var proxy = CountingProxy.Start(peer.EndPoint);
        const int count = 12;
        for (var i = 0; i < count; i++)
            await h.EnqueueAsync(Sender, [$"user{i}@busy.test"]);
        var options = Harness.Options(("busy.test", proxy.Route)) with
        {
            Workers = 6, ClaimBatch = 1, DestinationConcurrency = limit, SessionIdle = TimeSpan.FromMilliseconds(200),
        };
        using var stop = new CancellationTokenSource();
        var engine = h.Role(options).RunAsync(stop.Token);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60)
               && await h.ScalarAsync("select count(*) from recipients where state = 'delivered'") < count)
            await Task.Delay(100);
        await stop.CancelAsync();
        await engine.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(count, await h.ScalarAsync("select count(*) from recipients where state = 'delivered'"));
        Assert.Equal(count, peer.Messages.Count);
        return (proxy.MaxConcurrent, proxy.Total);
    }

    [Fact]
    public async Task A_second_batch_within_the_idle_time_rides_the_same_session_without_a_probe_records_the_same_outcome_and_QUIT_ends_it_at_shutdown()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { Name = "mx.reuse.test" }); // STARTTLS, self-signed
        var options = Harness.Options(("reuse.test", peer.Route)) with { SessionIdle = TimeSpan.FromSeconds(30) };
        using var stop = new CancellationTokenSource();
        var engine = h.Role(options).RunAsync(stop.Token);

        var first = await h.EnqueueAsync(Sender, ["bob@reuse.test"]);
        await WaitForStateAsync(h, first, "delivered");
        var second = await h.EnqueueAsync(Sender, ["carol@reuse.test"]);
        await WaitForStateAsync(h, second, "delivered");

        Assert.Equal(1, peer.Connections);
        Assert.Equal(2, peer.Messages.Count);
        Assert.All(peer.Messages, m => Assert.True(m.Connection == 1 && m.OverTls));
        var commands = peer.Transcript.Where(l => l.StartsWith("#1 C: ", StringComparison.Ordinal)).Select(l => l[6..]).ToList();
        var mails = commands.Select((c, i) => (c, i)).Where(x => x.c.StartsWith("MAIL", StringComparison.Ordinal)).Select(x => x.i).ToList();
        Assert.Equal(2, mails.Count);
        // Nothing came from the peer while the session was parked, so no RSET round trip before the second MAIL.
        Assert.DoesNotContain(commands.Skip(mails[0]).Take(mails[1] - mails[0]), c => c == "RSET");
        Assert.DoesNotContain("QUIT", commands);

        // The reused session records what it was opened with: the same transport, how, TLS details.
        var a1 = Assert.Single((await h.ShowAsync(first)).Attempts);
        var a2 = Assert.Single((await h.ShowAsync(second)).Attempts);
        Assert.Equal("encrypted", a1.Transport);
        Assert.NotNull(a1.TlsVersion);
        Assert.Equal((a1.Transport, a1.How, a1.Reason, a1.TlsVersion, a1.TlsCipher, a1.Spki, a1.CertSubject, a1.PolicyLevel, a1.Peer, a1.Address, a1.Port),
            (a2.Transport, a2.How, a2.Reason, a2.TlsVersion, a2.TlsCipher, a2.Spki, a2.CertSubject, a2.PolicyLevel, a2.Peer, a2.Address, a2.Port));

        await stop.CancelAsync();
        await engine.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("#1 C: QUIT", peer.Transcript);
    }

    [Fact]
    public async Task An_idle_session_is_closed_with_QUIT_after_the_idle_time_and_the_next_batch_connects_again()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var options = Harness.Options(("idle.test", peer.Route)) with { SessionIdle = TimeSpan.FromMilliseconds(700) };
        using var stop = new CancellationTokenSource();
        var engine = h.Role(options).RunAsync(stop.Token);

        var first = await h.EnqueueAsync(Sender, ["bob@idle.test"]);
        await WaitForStateAsync(h, first, "delivered");
        var clock = Stopwatch.StartNew();
        while (!peer.Transcript.Contains("#1 C: QUIT") && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50);
        Assert.Contains("#1 C: QUIT", peer.Transcript); // the engine still runs: the idle timer sent it
        Assert.False(engine.IsCompleted);

        var second = await h.EnqueueAsync(Sender, ["carol@idle.test"]);
        await WaitForStateAsync(h, second, "delivered");
        Assert.Equal(2, peer.Connections);
        Assert.Equal([1, 2], peer.Messages.Select(m => m.Connection).ToArray());
        await stop.CancelAsync();
        await engine.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_REQUIRETLS_message_never_rides_an_idle_cleartext_session_to_the_same_peer()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var options = Harness.Options(("plain.test", peer.Route)) with { SessionIdle = TimeSpan.FromSeconds(30) };
        using var stop = new CancellationTokenSource();
        var engine = h.Role(options).RunAsync(stop.Token);

        var plain = await h.EnqueueAsync(Sender, ["bob@plain.test"]);
        await WaitForStateAsync(h, plain, "delivered");
        Assert.Equal("cleartext", Assert.Single((await h.ShowAsync(plain)).Attempts).Transport);
        var secret = await h.EnqueueAsync(Sender, ["carol@plain.test"], requireTls: true);
        await WaitForStateAsync(h, secret, "deferred");

        var delivered = Assert.Single(peer.Messages);
        Assert.Equal(["bob@plain.test"], delivered.Recipients);
        Assert.Single(peer.Transcript, l => l.StartsWith("#1 C: MAIL", StringComparison.Ordinal));
        Assert.DoesNotContain(peer.Transcript, l => l.StartsWith("#1 C: RSET", StringComparison.Ordinal)); // never offered the idle session
        Assert.Equal(2, peer.Connections); // a session of its own, given up when STARTTLS was not offered
        Assert.DoesNotContain(peer.Transcript, l => l.StartsWith("#2 C: MAIL", StringComparison.Ordinal));
        await stop.CancelAsync();
        await engine.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_parked_session_the_peer_dropped_is_replaced_by_a_new_connection_without_an_extra_attempt()
    {
        await using var h = await Harness.CreateAsync();
        var address = IPAddress.Parse($"127.0.{Random.Shared.Next(2, 250)}.{Random.Shared.Next(2, 250)}");
        var first = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false }, address);
        var port = first.EndPoint.Port;
        var options = Harness.Options(("drop.test", first.Route)) with { SessionIdle = TimeSpan.FromSeconds(30) };
        using var stop = new CancellationTokenSource();
        var engine = h.Role(options).RunAsync(stop.Token);

        var one = await h.EnqueueAsync(Sender, ["bob@drop.test"]);
        await WaitForStateAsync(h, one, "delivered");
        await first.DisposeAsync(); // the peer goes away under the parked session
        await using var second = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false }, address, port);
        var two = await h.EnqueueAsync(Sender, ["carol@drop.test"]);
        await WaitForStateAsync(h, two, "delivered");

        Assert.Equal(["carol@drop.test"], Assert.Single(second.Messages).Recipients);
        var attempt = Assert.Single((await h.ShowAsync(two)).Attempts); // the failed RSET was no attempt
        Assert.Equal("dot", attempt.Stage);
        await stop.CancelAsync();
        await engine.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_parked_session_the_peer_closes_just_before_MAIL_hands_the_message_to_a_new_connection_without_an_attempt()
    {
        await using var h = await Harness.CreateAsync();
        // The second MAIL on a connection gets no reply, only the hang-up: to Relay the session looked alive when it
        // took it (nothing had come), so only MAIL can find out; the message then goes over connection 2.
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false, DropAtMail = n => n == 2 });
        var options = Harness.Options(("race.test", peer.Route)) with { SessionIdle = TimeSpan.FromSeconds(30) };
        using var stop = new CancellationTokenSource();
        var engine = h.Role(options).RunAsync(stop.Token);

        var one = await h.EnqueueAsync(Sender, ["bob@race.test"]);
        await WaitForStateAsync(h, one, "delivered");
        var two = await h.EnqueueAsync(Sender, ["carol@race.test"]);
        await WaitForStateAsync(h, two, "delivered");

        Assert.Equal([(1, "bob@race.test"), (2, "carol@race.test")], peer.Messages.Select(m => (m.Connection, m.Recipients.Single())).ToArray());
        Assert.Equal(2, peer.Transcript.Count(l => l.StartsWith("#1 C: MAIL", StringComparison.Ordinal))); // it did ride the parked one first
        Assert.DoesNotContain(peer.Transcript, l => l.StartsWith("#1 C: RSET", StringComparison.Ordinal));
        var attempt = Assert.Single((await h.ShowAsync(two)).Attempts); // the lost MAIL was no attempt
        Assert.Equal("dot", attempt.Stage);
        Assert.Equal("carol@race.test", attempt.Recipients.Single().Address);
        await stop.CancelAsync();
        await engine.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static async Task WaitForStateAsync(Harness h, string queueId, string state)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            if ((await h.ShowAsync(queueId)).Recipients.All(r => r.State == state)) return;
            await Task.Delay(50);
        }
        Assert.Fail($"{queueId} did not become {state} within 20 s: {string.Join(", ", (await h.ShowAsync(queueId)).Recipients.Select(r => r.State))}");
    }
}
