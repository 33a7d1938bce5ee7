using System.Diagnostics;
using System.Text.RegularExpressions;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// SIGTERM (how an init system stops the service) in the middle of a session with a slow peer: the process drains —
/// the session it is in finishes, each transaction recorded — and exits 0, with nothing duplicated and nothing lost.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed partial class GracefulStopDeliveryTests(ITestOutputHelper output)
{
    private const int Count = 6;

    [Fact]
    public async Task Sigterm_mid_session_drains_the_claimed_mail_exactly_once_and_exits_0()
    {
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            Name = "drain.e2e.test", OfferStartTls = false,
            DataReply = _ => { Thread.Sleep(400); return "250 2.0.0 queued slowly"; },
        }, LoopbackAddress.Random());
        await using var queue = await DeliveryQueue.CreateAsync("e2e_dlv_term");
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = queue.ConnectionString,
            ["Relay__Hostname"] = "relay.e2e.test",
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-e2e-term-").FullName,
            ["Relay__Routes__drain.e2e.test"] = peer.Route,
        };
        var run = Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < Count; i++)
            await queue.EnqueueAsync($"term@{DeliveryWorldFixture.SenderDomain}", [$"user{i}@drain.e2e.test"],
                $"Subject: drain {i}\r\nMessage-ID: <drain-{run}-{i}@sender.e2e.test>\r\n\r\nmessage {i}\r\n");

        await using var relay = RelayProcess.Start(env, "serve", "--roles", "delivery");
        await relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        while (peer.Messages.Count < 1 && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(20);
        Assert.True(peer.Messages.Count >= 1, "the process never started delivering");
        var pendingAtStop = await queue.ScalarAsync("select count(*) from recipients where state <> 'delivered'");
        relay.Terminate();
        var exitCode = await relay.WaitForExitAsync(TimeSpan.FromSeconds(40));
        output.WriteLine($"{pendingAtStop} recipients pending at SIGTERM; exit {exitCode}\n{relay.Output}");

        Assert.True(pendingAtStop > 0, "everything was delivered before the stop: the scenario tested nothing");
        Assert.Equal(0, exitCode);
        var markers = peer.Messages.Select(m => Marker().Match(m.Text).Groups[1].Value).ToList();
        Assert.Equal(markers.Distinct().Count(), markers.Count);
        // What the drain delivered is recorded as delivered; anything it did not reach is still queued for the next start.
        Assert.Equal(markers.Count, await queue.ScalarAsync("select count(*) from recipients where state = 'delivered'"));
        Assert.Equal(0, await queue.ScalarAsync("select count(*) from recipients where state not in ('delivered', 'queued')"));
    }

    [GeneratedRegex(@"Message-ID: <(drain-[0-9a-f]{8}-\d+)@")]
    private static partial Regex Marker();
}
