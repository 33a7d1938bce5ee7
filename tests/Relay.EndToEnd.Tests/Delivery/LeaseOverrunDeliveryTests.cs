using System.Text.RegularExpressions;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// One healthy process whose session to a slow peer lasts longer than its lease: the lease is a crash-recovery device,
/// so a living process must not deliver its own in-flight recipients a second time when the lease runs out.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed partial class LeaseOverrunDeliveryTests(ITestOutputHelper output)
{
    private const int Count = 8;

    // The lease is renewed while the session runs (LeaseKeeper), so it never lapses under a living process.
    [Fact]
    public async Task A_session_that_outlives_its_lease_still_delivers_each_message_once()
    {
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            Name = "overrun.e2e.test", OfferStartTls = false,
            DataReply = _ => { Thread.Sleep(500); return "250 2.0.0 queued slowly"; },
        }, LoopbackAddress.Random());
        await using var queue = await DeliveryQueue.CreateAsync("e2e_dlv_overrun");
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = queue.ConnectionString,
            ["Relay__Hostname"] = "relay.e2e.test",
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-e2e-overrun-").FullName,
            ["Relay__Routes__overrun.e2e.test"] = peer.Route,
            ["Relay__Delivery__Lease"] = "2s", // the batch's session takes about Count × 0.5 s = 4 s
        };
        var run = Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < Count; i++)
            await queue.EnqueueAsync($"overrun@{DeliveryWorldFixture.SenderDomain}", [$"user{i}@overrun.e2e.test"],
                $"Subject: overrun {i}\r\nMessage-ID: <ov-{run}-{i}@sender.e2e.test>\r\n\r\nmessage {i}\r\n");

        await using var relay = RelayProcess.Start(env, "serve", "--roles", "delivery");
        await relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && await queue.ScalarAsync("select count(*) from recipients where state <> 'delivered'") > 0)
            await Task.Delay(200);
        await Task.Delay(TimeSpan.FromSeconds(1)); // a second session still running would add its copies now
        output.WriteLine(relay.Output);

        Assert.Equal(0, await queue.ScalarAsync("select count(*) from recipients where state <> 'delivered'"));
        var markers = peer.Messages.Select(m => Marker().Match(m.Text).Groups[1].Value).ToList();
        var twice = markers.GroupBy(m => m).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"delivered twice by one living process: {string.Join(", ", twice)}");
        Assert.Equal(Count, markers.Count);
    }

    [GeneratedRegex(@"Message-ID: <(ov-[0-9a-f]{8}-\d+)@")]
    private static partial Regex Marker();
}
