using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Relay.EndToEnd.Tests.Delivery;
using Relay.TestKit;
using Relay.TestKit.Dns;
using Relay.TestKit.Smtp.Peers;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Operations;

/// <summary>
/// Real traffic through `relay serve --roles smtp,delivery` with Relay:Logging:Format json: two messages accepted, a
/// recipient refused, one delivered and one bounced by a scripted peer. /metrics then carries those counts (values,
/// not just names) in the words `relay queue show` stores, and every log line is one JSON object carrying them too.
/// </summary>
public sealed partial class MetricsAndLogsTests(ITestOutputHelper output)
{
    private const string Domain = "metrics.e2e.test";
    private const string BodyMarker = "body-words-that-never-reach-a-log";

    [Fact]
    public async Task Metrics_and_json_logs_carry_the_counts_and_words_of_real_traffic()
    {
        await using var peer = ScriptedSmtpPeer.Start(new PeerScript
        {
            Name = Domain,
            RcptReply = address => address.StartsWith("nobody@", StringComparison.Ordinal) ? "550 5.1.1 no such user" : "250 2.1.5 ok",
        }, LoopbackAddress.Random());
        await using var queue = await DeliveryQueue.CreateAsync("e2e_ops_metrics");
        var smtpPort = Processes.FreeTcpPort(IPAddress.Loopback);
        var metricsPort = Processes.FreeTcpPort(IPAddress.Loopback);
        var env = new Dictionary<string, string>
        {
            ["Relay__Database"] = queue.ConnectionString,
            ["Relay__Hostname"] = "relay.e2e.test",
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-e2e-metrics-").FullName,
            ["Relay__Domains__0"] = Domain,
            ["Relay__Routes__" + Domain] = peer.Route,
            ["Relay__Smtp__Listen__0"] = $"127.0.0.1:{smtpPort}",
            ["Relay__Metrics__Listen"] = $"127.0.0.1:{metricsPort}",
            ["Relay__Logging__Format"] = "json",
        };
        await using var relay = RelayProcess.Start(env, "serve", "--roles", "smtp,delivery");
        await relay.WaitForOutputAsync("role delivery started", TimeSpan.FromSeconds(30));

        var timeout = TimeSpan.FromSeconds(10);
        // Null sender: the bounce below sends no DSN, so every count stays exact.
        var delivered = await SendAsync(smtpPort, "someone@" + Domain, timeout);
        var bounced = await SendAsync(smtpPort, "nobody@" + Domain, timeout);
        await using (var client = await MiniSmtpClient.ConnectAsync("127.0.0.1", smtpPort, timeout))
        {
            await client.CommandAsync("EHLO client.e2e.test", timeout);
            await client.CommandAsync("MAIL FROM:<>", timeout);
            Assert.StartsWith("554", await client.CommandAsync("RCPT TO:<someone@elsewhere.e2e.test>", timeout));
            await client.CommandAsync("QUIT", timeout);
        }
        await queue.WaitForStatesAsync(delivered, TimeSpan.FromSeconds(30), "delivered");
        await queue.WaitForStatesAsync(bounced, TimeSpan.FromSeconds(30), "bounced");
        var attempts = (await queue.ShowAsync(delivered)).Attempts().Concat((await queue.ShowAsync(bounced)).Attempts()).ToList();

        using var endpoint = new OperationsEndpoint(metricsPort);
        var samples = await ScrapeUntilAsync(endpoint, s => s.Sum("relay_inbound_sessions_total") >= 3);
        output.WriteLine(string.Join("\n", samples.Where(s => s.Name.StartsWith("relay_", StringComparison.Ordinal))
            .Select(s => $"{s.Name}{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}")));

        Assert.Equal(2, samples.Sum("relay_inbound_accepted_total", ("listener", "smtp"), ("security", "cleartext")));
        Assert.Equal(2, samples.Sum("relay_inbound_accepted_recipients_total"));
        Assert.Equal(1, samples.Sum("relay_inbound_refused_total", ("what", "recipient"), ("reason", "relay-denied")));
        Assert.Equal(3, samples.Sum("relay_inbound_sessions_total", ("listener", "smtp"), ("end", "quit")));
        Assert.Equal(0, samples.Sum("relay_inbound_sessions_active"));
        Assert.Equal(1, samples.Sum("relay_delivery_recipients_total", ("result", "delivered")));
        Assert.Equal(1, samples.Sum("relay_delivery_recipients_total", ("result", "bounced")));
        Assert.Equal(0, samples.Sum("relay_delivery_recipients_total", ("result", "deferred")));
        // Each stored attempt is counted once, under the words it was stored with.
        Assert.Equal(attempts.Count, samples.Sum("relay_delivery_attempts_total"));
        foreach (var group in attempts.GroupBy(a => (Transport: a.Text("transport") ?? "nothing-sent", How: a.Text("how")!, Stage: a.Text("stage")!)))
            Assert.Equal(group.Count(), samples.Sum("relay_delivery_attempts_total",
                ("transport", group.Key.Transport), ("how", group.Key.How), ("stage", group.Key.Stage)));
        Assert.Equal(attempts.Count, samples.Sum("relay_delivery_attempt_duration_seconds_count"));
        Assert.InRange(samples.Sum("relay_delivery_sessions_total"), 1, 2);
        Assert.Equal(0, samples.Sum("relay_queue_recipients", ("state", "queued")) + samples.Sum("relay_queue_recipients", ("state", "deferred")));
        Assert.False(samples.Has("relay_queue_oldest_age_seconds"), "an empty queue has no oldest message");

        // Logs: every line is one JSON object; the attempt lines carry the stored words, the session lines the session's.
        var lines = relay.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var logs = lines.Select(line =>
        {
            try { return JsonDocument.Parse(line).RootElement.Clone(); }
            catch (JsonException e) { throw new Xunit.Sdk.XunitException($"not a JSON log line ({e.Message}): {line}"); }
        }).ToList();
        Assert.DoesNotContain(lines, l => l.Contains(BodyMarker, StringComparison.Ordinal));
        var attemptLines = logs.Where(l => State(l, "Stage") is not null && State(l, "NextHop") == Domain).ToList();
        Assert.Equal(attempts.Count, attemptLines.Count);
        var deliveredAttempt = attempts.First(a => a.Text("transport") is not null);
        var deliveredLine = Assert.Single(attemptLines, l => State(l, "QueueId") == delivered);
        Assert.Equal(deliveredAttempt.Text("transport"), State(deliveredLine, "Transport"));
        Assert.Equal(deliveredAttempt.Text("how"), State(deliveredLine, "How"));
        Assert.Contains("delivered", State(deliveredLine, "Recipients"));
        Assert.Contains("bounced", State(Assert.Single(attemptLines, l => State(l, "QueueId") == bounced), "Recipients"));
        var sessions = logs.Where(l => State(l, "EndReason") is not null).ToList();
        Assert.Equal(3, sessions.Count);
        Assert.All(sessions, s => Assert.Equal("cleartext", State(s, "Transport")));
        Assert.Single(logs, l => l.GetProperty("Message").GetString()!.Contains("listening on", StringComparison.Ordinal));
    }

    private static string? State(JsonElement line, string name) =>
        line.TryGetProperty("State", out var state) && state.TryGetProperty(name, out var value) ? value.ToString() : null;

    private static async Task<string> SendAsync(int port, string recipient, TimeSpan timeout)
    {
        await using var client = await MiniSmtpClient.ConnectAsync("127.0.0.1", port, timeout);
        await client.CommandAsync("EHLO client.e2e.test", timeout);
        var reply = await client.SendMessageAsync("", [recipient],
            $"Subject: metrics\r\nMessage-ID: <{Guid.NewGuid():N}@client.e2e.test>\r\n\r\n{BodyMarker}\r\n", timeout);
        await client.CommandAsync("QUIT", timeout);
        var queued = QueuedAs().Match(reply);
        Assert.True(queued.Success, reply);
        return queued.Groups[1].Value;
    }

    /// <summary>Session counters move when the session's last reply is written; the scrape waits (bounded) for the third.</summary>
    private static async Task<IReadOnlyList<MetricSample>> ScrapeUntilAsync(OperationsEndpoint endpoint, Func<IReadOnlyList<MetricSample>, bool> done)
    {
        var samples = await endpoint.ScrapeAsync();
        for (var i = 0; i < 50 && !done(samples); i++)
        {
            await Task.Delay(100);
            samples = await endpoint.ScrapeAsync();
        }
        return samples;
    }

    [GeneratedRegex(@"queued as <?([0-9A-Z]{16})>?")]
    private static partial Regex QueuedAs();
}
