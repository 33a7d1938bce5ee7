using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// Two `relay serve --roles delivery` processes share one database (leases, SKIP LOCKED): 500 messages reach
/// a real Postfix, each exactly once — counted at the peer by Message-ID in Postfix's own log.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed partial class TwoProcessDeliveryTests(DeliveryWorldFixture world, ITestOutputHelper output)
{
    private const int Count = 500;

    [Fact]
    public async Task Two_delivery_processes_on_one_database_deliver_500_messages_to_postfix_each_exactly_once()
    {
        await using var queue = await DeliveryQueue.CreateAsync("e2e_dlv_two");
        var run = Guid.NewGuid().ToString("N")[..8];
        var domains = Enumerable.Range(0, 5).Select(i => $"bulk{i}.e2e.test").ToArray();
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = queue.ConnectionString,
            ["Relay__Hostname"] = "relay.e2e.test",
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-e2e-two-").FullName,
            // Small claims so both processes get a share of the work instead of the first one leasing everything.
            ["Relay__Delivery__ClaimBatch"] = "20",
        };
        foreach (var domain in domains) env[$"Relay__Routes__{domain}"] = world.Sink.Route;

        await using var first = RelayProcess.Start(env, "serve", "--roles", "delivery");
        await using var second = RelayProcess.Start(env, "serve", "--roles", "delivery");
        await Task.WhenAll(first.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30)),
            second.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30)));

        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            await queue.EnqueueAsync($"bulk@{DeliveryWorldFixture.SenderDomain}", [$"user{i}@{domains[i % domains.Length]}"],
                $"Subject: bulk {i}\r\nMessage-ID: <{Marker(run, i)}@sender.e2e.test>\r\n\r\nmessage {i} of {Count}\r\n"));
        output.WriteLine($"enqueued {Count} in {clock.Elapsed}");

        while (clock.Elapsed < TimeSpan.FromSeconds(90) && await queue.ScalarAsync("select count(*) from recipients where state = 'delivered'") < Count)
            await Task.Delay(250);
        var delivered = await queue.ScalarAsync("select count(*) from recipients where state = 'delivered'");
        output.WriteLine($"{delivered} delivered after {clock.Elapsed}");
        Assert.True(delivered == Count, $"only {delivered} of {Count} delivered in 90 s; first:\n{Tail(first.Output)}\nsecond:\n{Tail(second.Output)}");

        // Postfix logs one cleanup line per message it accepted; give it a moment to log the last ones (and any duplicate).
        var seen = new List<string>();
        var wait = Stopwatch.StartNew();
        while (wait.Elapsed < TimeSpan.FromSeconds(15))
        {
            seen = ReceivedMarkers(world.Postfix.Log(), run);
            if (seen.Count >= Count) break;
            await Task.Delay(200);
        }
        await Task.Delay(TimeSpan.FromSeconds(1));
        seen = ReceivedMarkers(world.Postfix.Log(), run);

        var duplicates = seen.GroupBy(m => m).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"delivered more than once: {string.Join(", ", duplicates.Take(10))}");
        Assert.Equal(Enumerable.Range(0, Count).Select(i => Marker(run, i)).Order(), seen.Order());
        Assert.Equal(0, await queue.ScalarAsync("select count(*) from recipients where state <> 'delivered'"));
        // Both processes did part of the work: otherwise this would prove nothing about sharing a database.
        Assert.True(DeliveredBy(first.Output) > 0 && DeliveredBy(second.Output) > 0,
            $"first delivered {DeliveredBy(first.Output)}, second {DeliveredBy(second.Output)}");
        output.WriteLine($"first delivered {DeliveredBy(first.Output)}, second {DeliveredBy(second.Output)}");
    }

    private static string Marker(string run, int i) => $"bulk-{run}-{i:D4}";

    private static List<string> ReceivedMarkers(string log, string run) =>
        [.. CleanupMessageId().Matches(log).Select(m => m.Groups[1].Value).Where(v => v.Contains(run, StringComparison.Ordinal))];

    /// <summary>Delivery's one log line per attempt names each recipient's result ("… recipients: bob@x delivered (250 …)").</summary>
    private static int DeliveredBy(string processOutput) => processOutput.Split('\n').Count(l =>
        l.Contains(": attempt to ", StringComparison.Ordinal) && l.Contains(" delivered (", StringComparison.Ordinal));

    private static string Tail(string text) => text.Length <= 3000 ? text : text[^3000..];

    /// <summary>"postfix/cleanup[123]: 4Xy...: message-id=&lt;bulk-…@sender.e2e.test&gt;"</summary>
    [GeneratedRegex(@"cleanup\[\d+\]: \w+: message-id=<(bulk-[0-9a-f]{8}-\d{4})@")]
    private static partial Regex CleanupMessageId();
}
