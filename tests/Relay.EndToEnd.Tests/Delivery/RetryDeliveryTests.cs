using System.Globalization;
using System.Text.Json;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// Relay:Delivery:FirstRetry set through the environment governs the real executable's retry: a recipient refused
/// with 451 comes back after that delay and only it is sent again, never the one already delivered.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class RetryDeliveryTests(ITestOutputHelper output)
{
    private sealed record Outcome(JsonElement Shown, IReadOnlyList<string[]> Transactions, TimeSpan Gap);

    [Fact]
    public async Task Recipient_refused_with_451_is_retried_after_the_configured_delay_without_resending_the_delivered_one()
    {
        var outcome = await RunAsync(TimeSpan.FromSeconds(20));

        Assert.All(outcome.Shown.Recipients(), r => Assert.Equal("delivered", r.Text("state")));
        Assert.Equal([["now@retry.e2e.test"], ["later@retry.e2e.test"]], outcome.Transactions);
        Assert.True(outcome.Gap >= TimeSpan.FromSeconds(1.8), $"retried after {outcome.Gap}, before the configured 2 s");
        // The finished batch wakes the scheduler: the retry comes at FirstRetry, not at the next 30 s idle poll.
        Assert.True(outcome.Gap < TimeSpan.FromSeconds(6), $"FirstRetry is 2 s but the retry came after {outcome.Gap}");
        Assert.Equal(2, outcome.Shown.Recipients().Single(r => r.Text("address") == "later@retry.e2e.test").GetProperty("attempts").GetInt32());
        Assert.Equal(1, outcome.Shown.Recipients().Single(r => r.Text("address") == "now@retry.e2e.test").GetProperty("attempts").GetInt32());
    }

    private async Task<Outcome> RunAsync(TimeSpan patience)
    {
        var refusals = 0;
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            Name = "retry.e2e.test", OfferStartTls = false,
            RcptReply = address => address.StartsWith("later@", StringComparison.Ordinal) && Interlocked.Increment(ref refusals) == 1
                ? "451 4.3.0 try again later" : "250 2.1.5 ok",
        }, LoopbackAddress.Random());
        await using var queue = await DeliveryQueue.CreateAsync("e2e_dlv_retry");
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = queue.ConnectionString,
            ["Relay__Hostname"] = "relay.e2e.test",
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-e2e-retry-").FullName,
            ["Relay__Routes__retry.e2e.test"] = peer.Route,
            ["Relay__Delivery__FirstRetry"] = "2s",
        };
        await using var relay = RelayProcess.Start(env, "serve", "--roles", "delivery");
        await relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));

        var id = await queue.EnqueueAsync($"retry@{DeliveryWorldFixture.SenderDomain}", ["now@retry.e2e.test", "later@retry.e2e.test"]);
        try { await queue.WaitForStatesAsync(id, patience, "delivered", "bounced"); }
        finally { output.WriteLine(relay.Output); }
        var shown = await queue.ShowAsync(id);
        output.WriteLine(shown.Describe());

        var started = shown.Attempts().Select(a => DateTimeOffset.Parse(a.Text("started")!, CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(2, started.Count);
        return new Outcome(shown, [.. peer.Messages.Select(m => m.Recipients.ToArray())], started[1] - started[0]);
    }
}
