using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using Relay.Db;
using Relay.TestKit;
using Relay.TestKit.Postgres;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// Issue 4's durability promise on the real executable: messages are sent in a loop while the server is
/// killed with SIGKILL at random moments and restarted; every message that got `250` is in the queue
/// exactly once, and nothing in the queue is a half message.
/// </summary>
public partial class KillNineDurabilityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Every_acknowledged_message_survives_kill_9_exactly_once_and_no_half_message_is_queued()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("e2e_kill9");
        await using (var db = new RelayDatabase(database))
            await db.Migrator().ApplyAsync();
        var port = Processes.FreeTcpPort(IPAddress.Loopback);
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = database,
            ["Relay__Hostname"] = "mx.kill9.test",
            ["Relay__Smtp__Listen__0"] = $"127.0.0.1:{port}",
            ["Relay__Domains__0"] = "kill9.test",
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-kill9-").FullName,
        };

        var acknowledged = new ConcurrentDictionary<string, string>(); // marker -> queue id
        var random = new Random(4242);
        var sequence = 0;
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < 6 && clock.Elapsed < TimeSpan.FromSeconds(90); round++)
        {
            await using var relay = RelayProcess.Start(env, "serve", "--roles", "smtp");
            await relay.WaitForOutputAsync("role smtp started", TimeSpan.FromSeconds(30));
            using var stopSending = new CancellationTokenSource();
            var sender = Task.Run(() => SendUntilStoppedAsync(port, acknowledged, () => Interlocked.Increment(ref sequence), stopSending.Token));
            await Task.Delay(random.Next(150, 900));
            relay.Kill(); // SIGKILL: no drain, no cleanup
            await relay.WaitForExitAsync(TimeSpan.FromSeconds(10));
            stopSending.Cancel();
            await sender;
        }

        Assert.True(acknowledged.Count >= 10, $"only {acknowledged.Count} messages were acknowledged; the test proved too little");
        var stored = await StoredMarkersAsync(database);
        output.WriteLine($"{acknowledged.Count} messages acknowledged over the kills; {stored.Values.Sum(v => v.Count)} stored");
        foreach (var (marker, queueId) in acknowledged)
        {
            Assert.True(stored.TryGetValue(marker, out var copies), $"acknowledged message {marker} ({queueId}) is missing after kill -9");
            Assert.Equal(queueId, Assert.Single(copies).QueueId);
        }
        Assert.All(stored.Values.SelectMany(v => v), m => Assert.True(m.Complete, $"message {m.QueueId} is a half message"));
    }

    private static async Task SendUntilStoppedAsync(int port, ConcurrentDictionary<string, string> acknowledged, Func<int> next, CancellationToken stop)
    {
        var timeout = TimeSpan.FromSeconds(5);
        for (var attempt = 0; attempt < 10_000 && !stop.IsCancellationRequested; attempt++)
        {
            try
            {
                await using var client = await MiniSmtpClient.ConnectAsync("127.0.0.1", port, timeout);
                await client.CommandAsync("EHLO sender.kill9.test", timeout);
                for (var i = 0; i < 1000 && !stop.IsCancellationRequested; i++)
                {
                    var marker = $"kill9-{next():D6}";
                    var body = $"Subject: {marker}\r\nMessage-ID: <{marker}@sender.kill9.test>\r\n\r\n{string.Join("\r\n", Enumerable.Repeat(new string('x', 76), 30))}\r\nend-of-{marker}\r\n";
                    var reply = await client.SendMessageAsync("sender@elsewhere.test", [$"rcpt@kill9.test"], body, timeout);
                    var match = QueuedAs().Match(reply);
                    if (reply.StartsWith("250", StringComparison.Ordinal) && match.Success)
                        acknowledged[marker] = match.Groups[1].Value;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // the server was killed under us: anything not yet acknowledged may or may not be queued
                try { await Task.Delay(50, stop); } catch (OperationCanceledException) { return; }
            }
        }
    }

    private sealed record StoredMessage(string QueueId, bool Complete);

    private static async Task<Dictionary<string, List<StoredMessage>>> StoredMarkersAsync(string connectionString)
    {
        var result = new Dictionary<string, List<StoredMessage>>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select queue_id, body from messages", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var body = Encoding.ASCII.GetString(reader.GetFieldValue<byte[]>(1));
            var marker = MarkerInSubject().Match(body);
            if (!marker.Success) continue;
            var complete = body.Contains($"end-of-{marker.Groups[1].Value}\r\n", StringComparison.Ordinal);
            if (!result.TryGetValue(marker.Groups[1].Value, out var list)) result[marker.Groups[1].Value] = list = [];
            list.Add(new StoredMessage(reader.GetString(0), complete));
        }
        return result;
    }

    [GeneratedRegex(@"queued as <?([0-9A-Z]{16})>?")]
    private static partial Regex QueuedAs();

    [GeneratedRegex(@"Subject: (kill9-\d{6})")]
    private static partial Regex MarkerInSubject();
}
