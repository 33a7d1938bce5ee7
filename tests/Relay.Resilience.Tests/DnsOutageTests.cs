using System.Diagnostics;
using System.Text;
using Relay.Db;
using Relay.TestKit.Dns;
using Relay.TestKit.Postgres;
using Xunit.Abstractions;

namespace Relay.Resilience.Tests;

/// <summary>
/// Issue 13 §3: the validating resolver stops answering (unbound frozen with SIGSTOP, so queries time out as with a
/// hung or unreachable resolver) while mail waits for an MX lookup. Deliveries are deferred — never bounced, never
/// sent anywhere — and once the resolver answers again the same relay process delivers everything.
/// </summary>
public sealed class DnsOutageTests(ITestOutputHelper output)
{
    private const string Destination = "dnsout.test";
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(8);

    [Fact]
    public async Task Mail_is_deferred_while_the_resolver_is_stopped_never_bounced_and_delivered_when_it_answers_again()
    {
        var count = Soak.Times(10);
        await using var peer = CountingPeer.Start($"mx.{Destination}", TimeSpan.Zero);
        var builder = new DnsWorldBuilder();
        builder.Zone(Destination, signed: true).Add("@ MX 10 mx", $"mx A {peer.Peer.EndPoint.Address}");
        await using var world = await builder.StartAsync();
        var cluster = await PostgresCluster.SharedAsync();
        var relay = await RelayUnderTest.CreateAsync(await cluster.CreateDatabaseAsync("resil_dns"), "hosted.dnsout-relay.test", peer.Route);
        relay.Env["Relay__Dns__Servers__0"] = world.Resolver.ToString();
        relay.Env["Relay__Delivery__Port"] = peer.Peer.EndPoint.Port.ToString();
        var unbound = int.Parse(File.ReadAllText(Path.Combine(world.Directory, "unbound.pid")).Trim());
        await using var process = await relay.StartAsync("delivery");
        var prefix = $"dns-{Guid.NewGuid().ToString("N")[..8]}";

        Signal("STOP", unbound);
        var outage = Stopwatch.StartNew();
        try
        {
            await using var db = new RelayDatabase(relay.Database);
            for (var i = 0; i < count; i++)
            {
                var marker = $"{prefix}-{i:D6}";
                await db.Queue.EnqueueAsync(new NewMessage("sender@sender.resilience.test", Encoding.ASCII.GetBytes(MessageLoad.Body(marker)),
                    "192.0.2.1", "client.resilience.test", InboundSecurity.Cleartext), [new NewRecipient($"{marker}@{Destination}")], CancellationToken.None);
            }
            // Every recipient tried at least once and deferred, with the resolver still stopped.
            while (await relay.ScalarAsync("select count(*) from recipients where state = 'deferred' and attempts >= 1") < count && outage.Elapsed < TimeSpan.FromSeconds(60))
                await Task.Delay(200);
            if (outage.Elapsed < Outage) await Task.Delay(Outage - outage.Elapsed);
        }
        finally
        {
            Signal("CONT", unbound);
        }
        var deferred = await relay.ScalarAsync("select count(*) from recipients where state = 'deferred'");
        var attemptsDuringOutage = await relay.ScalarAsync("select coalesce(sum(attempts), 0) from recipients");
        var bouncedDuringOutage = await relay.BouncedAsync();
        var reasons = await relay.ScalarTextAsync("select string_agg(distinct last_result, ' | ') from recipients");
        var copiesDuringOutage = peer.Copies(prefix).Count;

        var recovery = Stopwatch.StartNew();
        while (await relay.NotDeliveredAsync() > 0 && recovery.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(100);
        var copies = peer.Copies(prefix);
        new Figures("dns-outage", count, count, copies.Count, copies.Values.Sum(c => c - 1), count - copies.Count, recovery.Elapsed,
            $"outage={outage.Elapsed.TotalSeconds:0.0}s deferred-during-outage={deferred} attempts-during-outage={attemptsDuringOutage} " +
            $"bounced={bouncedDuringOutage} recovery-is=resolver back→all delivered acknowledged-is=enqueued-directly").Print(output);
        output.WriteLine($"reasons while the resolver was stopped: {reasons}");

        Assert.Equal(count, deferred);
        Assert.Equal(0, bouncedDuringOutage);
        Assert.Equal(0, copiesDuringOutage);
        Assert.True(await relay.NotDeliveredAsync() == 0, $"not delivered after the resolver returned:\n{MessageLoad.Tail(process.Output)}");
        Assert.Equal(count, copies.Count);
        Assert.Equal(0, await relay.BouncedAsync());
        Assert.False(process.HasExited);
    }

    private static void Signal(string signal, int pid) => Process.Start("kill", [$"-{signal}", pid.ToString()])!.WaitForExit();
}
