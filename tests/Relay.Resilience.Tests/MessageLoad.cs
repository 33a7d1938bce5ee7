using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Relay.EndToEnd.Tests;

namespace Relay.Resilience.Tests;

/// <summary>
/// Clients that send numbered messages to a relay without pause, reconnecting whenever the relay is gone, and
/// remember what each message was told. A message is "acknowledged" only when the reply to its final dot was 250;
/// everything else (4xx, a dropped connection) leaves it unacknowledged: it may or may not have been queued.
/// </summary>
public sealed class MessageLoad : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly string run = Guid.NewGuid().ToString("N")[..8];
    private readonly int port;
    private readonly string recipientDomain;
    private readonly CancellationTokenSource stop = new();
    private readonly Task[] clients;
    private readonly ConcurrentDictionary<string, DateTimeOffset> acknowledged = new();
    private readonly ConcurrentDictionary<string, int> refusals = new();
    private readonly ConcurrentQueue<(DateTimeOffset At, string Code)> replies = new();
    private readonly TimeSpan pause;
    private int sequence;
    private int sent;

    private MessageLoad(int port, string recipientDomain, int clientCount, TimeSpan pause)
    {
        this.port = port;
        this.recipientDomain = recipientDomain;
        this.pause = pause;
        clients = Enumerable.Range(0, clientCount).Select(_ => Task.Run(ClientLoopAsync)).ToArray();
    }

    /// <summary>Starts <paramref name="clients"/> sending to 127.0.0.1:<paramref name="port"/>, one recipient per message at
    /// <paramref name="recipientDomain"/>, each client pausing <paramref name="pause"/> between messages (so that delivery,
    /// one peer behind, keeps up and the run ends with a drained queue).</summary>
    public static MessageLoad Start(int port, string recipientDomain, int clients, TimeSpan pause) => new(port, recipientDomain, clients, pause);

    /// <summary>The prefix of every marker of this load (markers look like PREFIX-000123).</summary>
    public string Prefix => $"load-{run}";

    public int Sent => Volatile.Read(ref sent);

    /// <summary>Marker → when its 250 arrived.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Acknowledged => acknowledged;

    /// <summary>Reply code (or "dropped") → how many transactions ended with it instead of 250.</summary>
    public IReadOnlyDictionary<string, int> Refusals => refusals;

    /// <summary>Every final reply with its time, in arrival order (250 included).</summary>
    public IReadOnlyList<(DateTimeOffset At, string Code)> Replies => replies.ToArray();

    /// <summary>The last lines of a relay's output, for assertion messages.</summary>
    public static string Tail(string output) => output.Length <= 4000 ? output : "…" + output[^4000..];

    public string Describe() => $"{Sent} sent, {acknowledged.Count} acknowledged, refused: " +
                                string.Join(", ", refusals.OrderBy(r => r.Key).Select(r => $"{r.Key}×{r.Value}"));

    private async Task ClientLoopAsync()
    {
        // Bounded: at most this many connections per client, each at most 200 messages.
        for (var connection = 0; connection < 100_000 && !stop.IsCancellationRequested; connection++)
        {
            try
            {
                await using var client = await MiniSmtpClient.ConnectAsync("127.0.0.1", port, Timeout);
                await client.CommandAsync("EHLO load.resilience.test", Timeout);
                for (var i = 0; i < 200 && !stop.IsCancellationRequested; i++)
                {
                    var marker = $"{Prefix}-{Interlocked.Increment(ref sequence):D6}";
                    Interlocked.Increment(ref sent);
                    string reply;
                    try
                    {
                        reply = await client.SendMessageAsync("load@sender.resilience.test", [$"{marker}@{recipientDomain}"], Body(marker), Timeout);
                    }
                    catch (IOException e) when (e.Message.StartsWith("expected ", StringComparison.Ordinal))
                    {
                        // MAIL or RCPT refused (the relay may refuse before DATA while the database is away).
                        var code = e.Message.Split("got: ")[^1];
                        Record(code.Length >= 3 ? code[..3] : "dropped");
                        if (code.StartsWith("421", StringComparison.Ordinal)) break;
                        continue;
                    }
                    var replyCode = reply.Length >= 3 ? reply[..3] : "dropped";
                    Record(replyCode);
                    if (replyCode == "250") acknowledged[marker] = DateTimeOffset.UtcNow;
                    else if (replyCode == "421") break;
                    await Task.Delay(pause, stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The relay went away under us (or is not up yet): whatever was in flight is unacknowledged.
                if (e is not SocketException && !stop.IsCancellationRequested) Record("dropped");
                try { await Task.Delay(50, stop.Token); } catch (OperationCanceledException) { return; }
            }
        }
    }

    private void Record(string code)
    {
        replies.Enqueue((DateTimeOffset.UtcNow, code));
        if (code != "250") refusals.AddOrUpdate(code, 1, (_, n) => n + 1);
    }

    /// <summary>Waits until <paramref name="count"/> more messages than now have been acknowledged.</summary>
    public async Task WaitForMoreAcknowledgedAsync(int count, TimeSpan timeout)
    {
        var target = acknowledged.Count + count;
        var clock = Stopwatch.StartNew();
        while (acknowledged.Count < target)
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"load did not get {count} more 250s within {timeout}: {Describe()}");
            await Task.Delay(20);
        }
    }

    public static string Body(string marker) =>
        $"Subject: {marker}\r\nMessage-ID: <{marker}@sender.resilience.test>\r\n\r\n{string.Join("\r\n", Enumerable.Repeat(new string('r', 76), 20))}\r\nend-of-{marker}\r\n";

    /// <summary>Stops the clients; what they were sending at that moment ends unacknowledged.</summary>
    public async Task StopAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!stop.IsCancellationRequested) await StopAsync();
        stop.Dispose();
    }
}
