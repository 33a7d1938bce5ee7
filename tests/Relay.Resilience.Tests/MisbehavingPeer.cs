using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Relay.TestKit.Dns;

namespace Relay.Resilience.Tests;

/// <summary>The ways a <see cref="MisbehavingPeer"/> fails a client.</summary>
public enum Misbehaviour
{
    /// <summary>Accepts the TCP connection and never says a word.</summary>
    NeverGreets,
    /// <summary>A normal session up to 354, then reads no more: the client's data writes stall once the socket buffers fill.</summary>
    StallsInData,
    /// <summary>Reads the whole message and its final dot, then resets the connection (RST) instead of replying.</summary>
    ResetsAfterDot,
    /// <summary>Answers EHLO (and anything after it) with a multi-line reply that never ends.</summary>
    EndlessReply,
    /// <summary>Offers STARTTLS, answers it with 220, then never takes part in the handshake.</summary>
    SilentAfterStartTls,
}

/// <summary>
/// A raw TCP server on its own loopback address that misbehaves in one way on every connection. It records how long
/// each connection lasted until the client closed it, so a test can show that the client's deadlines ended the
/// session. Everything it does is bounded: reads have a deadline, an endless reply stops after a million lines.
/// </summary>
public sealed class MisbehavingPeer : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TcpListener listener;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private readonly ConcurrentQueue<TimeSpan> sessions = new();
    private int connections;

    private MisbehavingPeer(Misbehaviour behaviour)
    {
        Behaviour = behaviour;
        listener = new TcpListener(LoopbackAddress.Random(), 0);
        // Small buffers (inherited by accepted sockets) so that a peer that stops reading stalls the sender soon.
        listener.Server.ReceiveBufferSize = 4096;
        listener.Start();
        loop = Task.Run(AcceptLoopAsync);
    }

    public Misbehaviour Behaviour { get; }
    public string Route => $"[{((IPEndPoint)listener.LocalEndpoint).Address}]:{((IPEndPoint)listener.LocalEndpoint).Port}";
    public int Connections => Volatile.Read(ref connections);
    /// <summary>How long each finished connection lasted, accept to the client's close.</summary>
    public IReadOnlyList<TimeSpan> Sessions => sessions.ToArray();

    public static MisbehavingPeer Start(Misbehaviour behaviour) => new(behaviour);

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await listener.AcceptSocketAsync(stop.Token); }
            catch (Exception) { return; }
            Interlocked.Increment(ref connections);
            _ = Task.Run(async () =>
            {
                var clock = Stopwatch.StartNew();
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                deadline.CancelAfter(Patience);
                try { await MisbehaveAsync(socket, deadline.Token); }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { }
                finally
                {
                    sessions.Enqueue(clock.Elapsed);
                    socket.Dispose();
                }
            });
        }
    }

    private async Task MisbehaveAsync(Socket socket, CancellationToken ct)
    {
        var stream = new NetworkStream(socket, ownsSocket: false);
        var reader = new StreamReader(stream, Encoding.ASCII);
        async Task Send(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), ct);

        if (Behaviour == Misbehaviour.NeverGreets)
        {
            await WaitForCloseAsync(socket, ct);
            return;
        }
        await Send("220 misbehaving.test ESMTP");
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
            if (Behaviour == Misbehaviour.EndlessReply)
            {
                for (var i = 0; i < 1_000_000; i++) await Send($"250-misbehaving.test line {i} of a reply that never ends");
                return;
            }
            switch (verb)
            {
                case "EHLO":
                    await Send("250-misbehaving.test");
                    if (Behaviour == Misbehaviour.SilentAfterStartTls) await Send("250-STARTTLS");
                    await Send("250 8BITMIME");
                    break;
                case "STAR":
                    await Send("220 2.0.0 go ahead");
                    await WaitForCloseAsync(socket, ct); // the ClientHello is read and ignored
                    return;
                case "DATA":
                    await Send("354 go ahead");
                    if (Behaviour == Misbehaviour.StallsInData)
                    {
                        await Task.Delay(Patience, ct); // read nothing more
                        return;
                    }
                    while (await reader.ReadLineAsync(ct) is { } data && data != ".") { }
                    socket.LingerState = new LingerOption(true, 0); // close = RST
                    socket.Close();
                    return;
                case "QUIT":
                    await Send("221 bye");
                    return;
                default:
                    await Send("250 2.0.0 ok");
                    break;
            }
        }
    }

    /// <summary>Reads (and ignores) until the client closes or the deadline passes.</summary>
    private static async Task WaitForCloseAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[4096];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, ct) > 0) { }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        try { await loop; } catch (Exception) { }
        stop.Dispose();
    }
}
