using System.Diagnostics;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

public class ConcurrencyTests
{
    [Fact]
    public async Task Two_delivery_engines_on_one_database_deliver_500_messages_each_exactly_once()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        const int count = 500;
        var domains = new[] { "one.test", "two.test", "three.test" };
        for (var i = 0; i < count; i++)
            await h.EnqueueAsync("alice@origin.test", [$"user{i}@{domains[i % domains.Length]}"],
                body: $"Subject: n{i}\r\nMessage-ID: <n{i}@origin.test>\r\n\r\nbody {i}\r\n");

        var options = Harness.Options(domains.Select(d => (d, peer.Route)).ToArray()) with { ClaimBatch = 40, Workers = 3 };
        using var stop = new CancellationTokenSource();
        var engines = new[]
        {
            h.Role(options with { WorkerId = "engine-a" }).RunAsync(stop.Token),
            h.Role(options with { WorkerId = "engine-b" }).RunAsync(stop.Token),
        };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120)
               && await h.ScalarAsync("select count(*) from recipients where state = 'delivered'") < count)
            await Task.Delay(200);
        await stop.CancelAsync();
        await Task.WhenAll(engines).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(count, await h.ScalarAsync("select count(*) from recipients where state = 'delivered'"));
        var ids = peer.Messages.Select(m => System.Text.RegularExpressions.Regex.Match(m.Text, @"Message-ID: <(n\d+)@").Groups[1].Value).ToList();
        Assert.Equal(count, ids.Count);
        Assert.Equal(count, ids.Distinct().Count());
        Assert.True(await h.ScalarAsync("select count(*) from delivery_attempts") >= count);
    }

    [Fact]
    public async Task Recipients_of_a_worker_that_died_mid_session_are_delivered_after_its_lease_expires()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var id = await h.EnqueueAsync("alice@origin.test", ["bob@crash.test", "carol@crash.test"]);
        // A worker claims and then vanishes (kill -9): its lease is all that is left of it.
        var claimed = await h.Database.Queue.ClaimAsync(10, TimeSpan.FromSeconds(2), "dead-worker", CancellationToken.None);
        Assert.Equal(2, claimed.Sum(b => b.Recipients.Count));
        var role = h.Role(Harness.Options(("crash.test", peer.Route)));

        Assert.Equal(0, await role.RunOnceAsync(CancellationToken.None)); // still leased: nobody else may touch them
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(2, await role.RunOnceAsync(CancellationToken.None));

        var message = Assert.Single(peer.Messages);
        Assert.Equal(["bob@crash.test", "carol@crash.test"], message.Recipients.Order().ToArray());
        Assert.All((await h.ShowAsync(id)).Recipients, r => Assert.Equal("delivered", r.State));
    }

    [Fact]
    public async Task A_tarpit_next_hop_does_not_hold_up_delivery_to_other_next_hops()
    {
        await using var h = await Harness.CreateAsync();
        await using var tarpit = ScriptedSmtpPeer.Start(new PeerScript { SilentGreeting = true });
        await using var good = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var slow = await h.EnqueueAsync("alice@origin.test", ["bob@slow.test"]);
        var options = Harness.Options(("slow.test", tarpit.Route), ("fast.test", good.Route)) with
        {
            Timeouts = Harness.Options().Timeouts with { Greeting = TimeSpan.FromSeconds(15) },
            ClaimBatch = 1,
        };
        using var stop = new CancellationTokenSource();
        var engine = h.Role(options with { DrainTimeout = TimeSpan.FromSeconds(1) }).RunAsync(stop.Token);
        var clock = Stopwatch.StartNew();
        while (tarpit.Connections == 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50);
        Assert.Equal(1, tarpit.Connections);

        var fast = await h.EnqueueAsync("alice@origin.test", ["carol@fast.test"]);
        while (good.Messages.Count == 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(50);

        Assert.Single(good.Messages);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the fast hop waited for the tarpit");
        Assert.Equal("queued", Assert.Single((await h.ShowAsync(slow)).Recipients).State); // still in its session
        await stop.CancelAsync();
        await engine.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("delivered", Assert.Single((await h.ShowAsync(fast)).Recipients).State);
    }
}
