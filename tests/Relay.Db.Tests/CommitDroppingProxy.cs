using System.Net;
using System.Net.Sockets;

namespace Relay.Db.Tests;

/// <summary>
/// A TCP proxy between Relay.Db and the real PostgreSQL that breaks one connection at its COMMIT: the COMMIT of the
/// first transaction in which the client sent the armed marker (a sender address, say), so the test picks the batch. It exists because a
/// lost COMMIT reply cannot be provoked otherwise: the server commits and its answer never reaches the client, which
/// is what a network fault or a crashed pooler does at the worst moment. It recognises the simple-protocol Query
/// message Npgsql sends for <c>NpgsqlTransaction.CommitAsync</c> ('Q', length 11, "COMMIT\0"); the tests assert that
/// it fired, so a driver that sent COMMIT differently would fail them instead of passing them untested.
/// <see cref="DropAfterForwarding"/>: COMMIT reaches the server (which commits) and the client's side is closed before
/// any reply can be forwarded. <see cref="DropBeforeForwarding"/>: COMMIT never reaches the server (which rolls back).
/// </summary>
public sealed class CommitDroppingProxy : IAsyncDisposable
{
    private static readonly byte[] Commit = [(byte)'Q', 0, 0, 0, 11, (byte)'C', (byte)'O', (byte)'M', (byte)'M', (byte)'I', (byte)'T', 0];

    public enum Mode { DropAfterForwarding, DropBeforeForwarding }

    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint server;
    private readonly CancellationTokenSource stop = new();
    private readonly Task accepting;
    private int armed;
    private byte[] marker = [];
    private Mode mode;
    private int dropped;

    public CommitDroppingProxy(IPEndPoint server)
    {
        this.server = server;
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>How many connections were broken at a COMMIT so far.</summary>
    public int Dropped => Volatile.Read(ref dropped);

    /// <summary>Drops, this way, the COMMIT of the next transaction whose statements carry <paramref name="text"/>.</summary>
    public void Arm(Mode how, string text)
    {
        mode = how;
        marker = System.Text.Encoding.UTF8.GetBytes(text);
        Volatile.Write(ref armed, 1);
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stop.Token);
                connections.Add(RelayAsync(client));
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
        await Task.WhenAll(connections);
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var _ = client;
        using var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(server, stop.Token);
            client.NoDelay = upstream.NoDelay = true;
            var cut = new TaskCompletionSource();
            var fromClient = ForwardClientAsync(client, upstream, cut);
            var fromServer = ForwardServerAsync(upstream, client, cut.Task);
            await Task.WhenAny(fromClient, fromServer);
            client.Close();
            // After a COMMIT was forwarded the server side stays open until the server has answered (and the answer is
            // thrown away), so the server is never interrupted while it commits.
            await Task.WhenAny(fromServer, Task.Delay(TimeSpan.FromSeconds(5)));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException) { }
    }

    private async Task ForwardClientAsync(TcpClient client, TcpClient upstream, TaskCompletionSource cut)
    {
        var from = client.GetStream();
        var to = upstream.GetStream();
        var buffer = new byte[64 * 1024];
        var tail = Array.Empty<byte>(); // the end of the last read, so a COMMIT or marker split across two reads is still seen
        var marked = false;
        while (true)
        {
            var n = await from.ReadAsync(buffer, stop.Token);
            if (n == 0) return;
            var window = tail.Concat(buffer[..n]).ToArray();
            marked |= marker.Length > 0 && Seen(window, tail.Length, marker);
            var commit = Seen(window, tail.Length, Commit);
            if (commit && marked && Interlocked.Exchange(ref armed, 0) == 1)
            {
                // The client's side is cut first, so no reply from the server can reach it however fast it comes.
                cut.TrySetResult();
                client.Client.Shutdown(SocketShutdown.Both);
                Interlocked.Increment(ref dropped);
                if (mode == Mode.DropAfterForwarding) await to.WriteAsync(buffer.AsMemory(0, n), stop.Token);
                else upstream.Close();
                return;
            }
            await to.WriteAsync(buffer.AsMemory(0, n), stop.Token);
            if (commit) marked = false; // the next transaction starts clean
            tail = window[Math.Max(0, window.Length - (Math.Max(Commit.Length, marker.Length) - 1))..];
        }
    }

    // Only a match that ends in the bytes just read: one lying wholly in the carried-over tail was seen last time.
    private static bool Seen(byte[] window, int tail, byte[] pattern) =>
        window.AsSpan(Math.Max(0, tail - (pattern.Length - 1))).IndexOf(pattern) >= 0;

    private async Task ForwardServerAsync(TcpClient upstream, TcpClient client, Task cut)
    {
        var from = upstream.GetStream();
        var to = client.GetStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var n = await from.ReadAsync(buffer, stop.Token);
            if (n == 0) return;
            if (cut.IsCompleted) return; // the COMMIT's answer (and whatever follows) is dropped
            await to.WriteAsync(buffer.AsMemory(0, n), stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        listener.Stop();
        await accepting;
    }
}
