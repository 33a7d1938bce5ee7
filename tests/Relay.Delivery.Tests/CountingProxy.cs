using System.Net;
using System.Net.Sockets;

namespace Relay.Delivery.Tests;

/// <summary>
/// A TCP relay in front of a test peer that counts the SMTP sessions open through it at once. A session stops
/// counting when its client sends QUIT (before the QUIT is passed on, so before the client can see 221 and open
/// the next one) or closes its side: a client that frees its slot only after QUIT's reply can never be counted
/// twice by a race in this proxy.
/// </summary>
internal sealed class CountingProxy : IAsyncDisposable
{
    private readonly TcpListener listener;
    private readonly IPEndPoint upstream;
    private readonly CancellationTokenSource stop = new();
    private readonly Task acceptLoop;
    private int current;
    private int max;
    private int total;

    private CountingProxy(TcpListener listener, IPEndPoint upstream)
    {
        this.listener = listener;
        this.upstream = upstream;
        acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public static CountingProxy Start(IPEndPoint upstream)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(64);
        return new CountingProxy(listener, upstream);
    }

    public string Route => $"[{((IPEndPoint)listener.LocalEndpoint).Address}]:{((IPEndPoint)listener.LocalEndpoint).Port}";
    public int MaxConcurrent => Volatile.Read(ref max);
    public int Total => Volatile.Read(ref total);

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptSocketAsync(stop.Token); }
            catch (Exception) { return; }
            Interlocked.Increment(ref total);
            var now = Interlocked.Increment(ref current);
            for (var seen = Volatile.Read(ref max); now > seen; seen = Volatile.Read(ref max))
                if (Interlocked.CompareExchange(ref max, now, seen) == seen) break;
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        var ended = 0;
        void End()
        {
            if (Interlocked.Exchange(ref ended, 1) == 0) Interlocked.Decrement(ref current);
        }
        using var server = new Socket(upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                deadline.CancelAfter(TimeSpan.FromSeconds(60));
                await server.ConnectAsync(upstream, deadline.Token);
                var up = PumpAsync(client, server, onQuit: End, deadline.Token);
                var down = PumpAsync(server, client, onQuit: null, deadline.Token);
                await Task.WhenAny(up, down);
                End();
                client.Close();
                server.Close();
                try { await Task.WhenAll(up, down); } catch (Exception) { }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
            {
            }
            finally
            {
                End();
            }
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, Action? onQuit, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var line = new List<byte>();
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0) return;
            if (onQuit is not null)
            {
                for (var i = 0; i < read; i++)
                {
                    line.Add(buffer[i]);
                    if (buffer[i] != '\n') continue;
                    if (System.Text.Encoding.ASCII.GetString(line.ToArray()).Equals("QUIT\r\n", StringComparison.OrdinalIgnoreCase)) onQuit();
                    line.Clear();
                }
            }
            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        try { await acceptLoop; } catch (Exception) { }
        stop.Dispose();
    }
}
