using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Relay.TestKit.Smtp.Peers;

namespace Relay.Delivery.Tests;

/// <summary>The real `relay serve --roles delivery` process, killed with SIGKILL in the middle of a session.</summary>
public class KillTests
{
    [Fact]
    public async Task Kill_9_mid_session_redelivers_after_the_lease_and_duplicates_at_most_the_transaction_in_flight()
    {
        await using var h = await Harness.CreateAsync();
        var inFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            OfferStartTls = false,
            DataReply = n =>
            {
                if (n != 1) return "250 2.0.0 queued";
                inFlight.TrySetResult();
                Thread.Sleep(TimeSpan.FromSeconds(3)); // the sender dies while we "think" about the first message
                return "250 2.0.0 queued";
            },
        });
        for (var i = 0; i < 5; i++)
            await h.EnqueueAsync("alice@origin.test", [$"user{i}@kill.test"], body: $"Subject: k{i}\r\nMessage-ID: <k{i}@origin.test>\r\n\r\nbody\r\n");
        var config = Path.Combine(Directory.CreateTempSubdirectory("relay-kill-").FullName, "relay.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Relay = new
            {
                Database = h.ConnectionString,
                Hostname = "relay.test",
                Routes = new Dictionary<string, string> { ["kill.test"] = peer.Route },
                Delivery = new { Lease = "3s", Workers = "1", ClaimBatch = "10" },
            },
        }));

        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "relay"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "serve", "--roles", "delivery", "--config", config }) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await Task.WhenAny(inFlight.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.True(inFlight.Task.IsCompleted, $"the relay process never reached DATA: exited={process.HasExited}");
        }
        finally
        {
            process.Kill(); // SIGKILL: no drain, no cleanup, leases left behind
            await process.WaitForExitAsync();
        }
        Assert.Equal(0, await h.ScalarAsync("select count(*) from recipients where state = 'delivered'"));

        using var stop = new CancellationTokenSource();
        var survivor = h.Role(Harness.Options(("kill.test", peer.Route)) with { WorkerId = "survivor" }).RunAsync(stop.Token);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && await h.ScalarAsync("select count(*) from recipients where state = 'delivered'") < 5)
            await Task.Delay(200);
        await stop.CancelAsync();
        await survivor.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(5, await h.ScalarAsync("select count(*) from recipients where state = 'delivered'"));
        var ids = peer.Messages.Select(m => Regex.Match(m.Text, @"Message-ID: <(k\d)@").Groups[1].Value).ToList();
        Assert.Equal(["k0", "k1", "k2", "k3", "k4"], ids.Distinct().Order().ToArray());
        var duplicated = ids.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicated.Count == 0 || duplicated.SequenceEqual(["k0"]), $"duplicated: {string.Join(",", duplicated)}; {await output}{await errors}");
        Assert.True(ids.Count(i => i == "k0") <= 2);
        Directory.Delete(Path.GetDirectoryName(config)!, recursive: true);
    }
}
