using System.Diagnostics;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>The delivery role's retention sweep: a message delivered long enough ago is deleted while the role runs; one
/// still waiting is not.</summary>
public class RetentionSweepTests
{
    [Fact]
    public async Task The_delivery_role_deletes_a_delivered_message_once_it_is_older_than_the_retention()
    {
        await using var h = await Harness.CreateAsync();
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript { OfferStartTls = false });
        var delivered = await h.EnqueueAsync("alice@origin.test", ["bob@retention.test"]);
        // Held by the operator: never final, so never swept, however old.
        var held = await h.EnqueueAsync("alice@origin.test", ["carol@held-retention.test"]);
        await h.ScalarAsync($"update recipients r set state = 'held' from messages m where m.id = r.message_id and m.queue_id = '{held}'");
        var options = Harness.Options(("retention.test", peer.Route)) with { RetentionSweepInterval = TimeSpan.FromMilliseconds(200) };
        using var stop = new CancellationTokenSource();
        var role = h.Role(options).RunAsync(stop.Token);
        var clock = Stopwatch.StartNew();
        while ((await h.ShowAsync(delivered)).Recipients.Single().State != "delivered" && clock.Elapsed < TimeSpan.FromSeconds(20))
            await Task.Delay(50);
        Assert.Equal("delivered", (await h.ShowAsync(delivered)).Recipients.Single().State);

        // As if it had been received nine days ago and delivered eight days ago, with the default retention of seven days.
        foreach (var queueId in new[] { delivered, held })
        {
            await h.ScalarAsync($"update messages set received_at = now() - interval '9 days' where queue_id = '{queueId}'");
            await h.ScalarAsync($"update recipients r set updated_at = now() - interval '8 days' from messages m where m.id = r.message_id and m.queue_id = '{queueId}'");
        }
        while (await h.ScalarAsync($"select count(*) from messages where queue_id = '{delivered}'") > 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(100);
        await stop.CancelAsync();
        await role.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, await h.ScalarAsync($"select count(*) from messages where queue_id = '{delivered}'"));
        Assert.Equal(1, await h.ScalarAsync($"select count(*) from messages where queue_id = '{held}'"));
        Assert.Equal(TimeSpan.FromDays(7), options.Retention);
    }
}
