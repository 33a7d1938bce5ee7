using System.Diagnostics;
using System.Text;
using Relay.Db;
using Relay.EndToEnd.Tests;
using Relay.TestKit.Postgres;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests;

/// <summary>
/// Issue 13 §4: one next hop per way a peer can misbehave (never greets; stalls mid-DATA; resets after the dot;
/// sends a reply that never ends; answers STARTTLS and never handshakes), all at once against one `relay serve
/// --roles delivery` with 2-second delivery deadlines. Every session is ended by a deadline or a limit, no recipient
/// is delivered or bounced, each is deferred with a reason that names what happened, and a well-behaved peer
/// queued behind them is still served.
/// </summary>
public sealed class MisbehavingPeerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    /// <summary>What the recipient's last result must say (all of the words, case-insensitive).</summary>
    private static readonly Dictionary<Misbehaviour, string[]> Reasons = new()
    {
        [Misbehaviour.NeverGreets] = ["greeting", "no reply within 2"],
        [Misbehaviour.StallsInData] = ["timed out", "data"],
        [Misbehaviour.ResetsAfterDot] = ["dot", "reset"],
        [Misbehaviour.EndlessReply] = ["more than 100 lines"],
        [Misbehaviour.SilentAfterStartTls] = ["handshake", "timed out"],
    };

    [Fact]
    public async Task Each_misbehaving_peer_is_cut_off_by_a_deadline_and_its_recipient_deferred_with_a_reason_that_says_what_happened()
    {
        var peers = Enum.GetValues<Misbehaviour>().ToDictionary(b => b, MisbehavingPeer.Start);
        await using var good = CountingPeer.Start("good.peers.test", TimeSpan.Zero);
        try
        {
            var cluster = await PostgresCluster.SharedAsync();
            var relay = await RelayUnderTest.CreateAsync(await cluster.CreateDatabaseAsync("resil_peers"), "good.peers.test", good.Route);
            foreach (var (behaviour, peer) in peers) relay.Env[$"Relay__Routes__{Domain(behaviour)}"] = peer.Route;
            foreach (var key in new[] { "Connect", "Greeting", "Command", "TlsHandshake", "Data", "Dot" })
                relay.Env[$"Relay__Delivery__{key}Timeout"] = $"{Deadline.TotalSeconds}s";
            relay.Env["Relay__Delivery__FirstRetry"] = "1m"; // one attempt each within the test
            relay.Env["Relay__Delivery__MaxRetry"] = "1m";
            // Opportunistic TLS would retry the silent STARTTLS peer in cleartext: an explicit policy makes TLS required there.
            var (code, _, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = relay.Database },
                "policy", "set", Domain(Misbehaviour.SilentAfterStartTls), "encrypt");
            Assert.True(code == 0, stderr);

            var rounds = Soak.Times(1);
            await using var db = new RelayDatabase(relay.Database);
            var marker = 0;
            // Big enough that a peer which stops reading stalls the sender's writes (its receive buffer is 4 KiB).
            var bigBody = MessageLoad.Body("peers-00000000-999999") + new string('x', 998) + "\r\n" + string.Concat(Enumerable.Repeat(new string('y', 998) + "\r\n", 16_000));
            for (var round = 0; round < rounds; round++)
                foreach (var behaviour in peers.Keys)
                    await db.Queue.EnqueueAsync(new NewMessage("sender@sender.resilience.test",
                            Encoding.ASCII.GetBytes(behaviour == Misbehaviour.StallsInData ? bigBody : MessageLoad.Body($"peers-00000000-{marker:D6}")),
                            "192.0.2.1", "client.resilience.test", InboundSecurity.Cleartext),
                        [new NewRecipient($"r{marker++}@{Domain(behaviour)}")], CancellationToken.None);
            var control = $"peers-{Guid.NewGuid().ToString("N")[..8]}-000001";
            await db.Queue.EnqueueAsync(new NewMessage("sender@sender.resilience.test", Encoding.ASCII.GetBytes(MessageLoad.Body(control)),
                "192.0.2.1", "client.resilience.test", InboundSecurity.Cleartext), [new NewRecipient($"{control}@good.peers.test")], CancellationToken.None);

            var clock = Stopwatch.StartNew();
            await using var process = await relay.StartAsync("delivery");
            var misbehaving = peers.Count * rounds;
            while (await relay.ScalarAsync("select count(*) from recipients where attempts >= 1 and next_hop <> 'good.peers.test'") < misbehaving
                   && clock.Elapsed < TimeSpan.FromSeconds(60))
                await Task.Delay(100);
            var allTried = clock.Elapsed;
            while (await relay.NotDeliveredAsync() > misbehaving && clock.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(100);

            var longest = TimeSpan.FromMilliseconds(await relay.ScalarAsync("select coalesce(max(duration_ms), 0) from delivery_attempts"));
            new Figures("misbehaving-peers", misbehaving + 1, misbehaving + 1, good.Copies("peers").Count, 0, 0, allTried,
                $"peers={string.Join(",", peers.Keys)} deadline={Deadline.TotalSeconds:0}s longest-attempt={longest.TotalSeconds:0.0}s " +
                "recovery-is=start→every-misbehaving-recipient-tried acknowledged-is=enqueued-directly delivered-is=the-well-behaved-control").Print(output);

            var failures = new List<string>();
            foreach (var (behaviour, peer) in peers)
            {
                var domain = Domain(behaviour);
                var states = await relay.ScalarTextAsync($"select string_agg(distinct state, ',') from recipients where next_hop = '{domain}'");
                var reason = await relay.ScalarTextAsync($"select string_agg(distinct last_result, ' | ') from recipients where next_hop = '{domain}'");
                output.WriteLine($"{behaviour}: {peer.Connections} connection(s), state {states}, reason: {reason}");
                if (states != "deferred") failures.Add($"{behaviour}: state {states}, wanted deferred ({reason})");
                if (!Reasons[behaviour].All(w => reason.Contains(w, StringComparison.OrdinalIgnoreCase)))
                    failures.Add($"{behaviour}: reason '{reason}' does not say {string.Join(" + ", Reasons[behaviour].Select(w => $"'{w}'"))}");
                if (peer.Connections == 0) failures.Add($"{behaviour}: never contacted");
            }
            Assert.True(failures.Count == 0, string.Join("\n", failures) + "\n" + MessageLoad.Tail(process.Output));
            // A deadline (or the reply limit) ended every session: none lasted much beyond the deadlines it could meet.
            Assert.True(longest < Deadline * 4, $"an attempt took {longest}");
            Assert.Equal(1, good.Copies(control).GetValueOrDefault(control));
            Assert.Equal(0, await relay.BouncedAsync());
        }
        finally
        {
            foreach (var peer in peers.Values) await peer.DisposeAsync();
        }
    }

    private static string Domain(Misbehaviour behaviour) => $"{behaviour.ToString().ToLowerInvariant()}.peers.test";
}
