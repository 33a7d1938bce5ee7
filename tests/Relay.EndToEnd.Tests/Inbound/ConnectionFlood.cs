using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Relay.EndToEnd.Tests.Inbound;

/// <summary>
/// Many silent TCP connections to one endpoint from several 127.77.x.y source addresses (all of 127/8 is on lo here,
/// and each source address has its own ephemeral ports). Connections are opened a batch at a time, each with a
/// deadline; the flood holds them (never sending a byte) until disposed, then reads what each was told.
/// </summary>
public sealed class ConnectionFlood : IAsyncDisposable
{
    private readonly List<Socket> _sockets = [];

    public int Opened => _sockets.Count;
    public int Failed { get; private set; }

    public static IPAddress Source(int index) => new([127, 77, (byte)(1 + index / 250), (byte)(1 + index % 250)]);

    public static async Task<ConnectionFlood> OpenAsync(IPEndPoint target, int connections, int sources, TimeSpan connectTimeout, TimeSpan budget)
    {
        var flood = new ConnectionFlood();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        const int batch = 100;
        for (var start = 0; start < connections && clock.Elapsed < budget; start += batch)
        {
            var opening = Enumerable.Range(start, Math.Min(batch, connections - start)).Select(async i =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(Source(i % sources), 0));
                    using var cts = new CancellationTokenSource(connectTimeout);
                    await socket.ConnectAsync(target, cts.Token);
                    return socket;
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    socket.Dispose();
                    return null;
                }
            }).ToList();
            foreach (var socket in await Task.WhenAll(opening))
                if (socket is null) flood.Failed++;
                else flood._sockets.Add(socket);
        }
        return flood;
    }

    /// <summary>What the relay has written to the flood's connections so far (read without waiting), by reply code and text.</summary>
    public Dictionary<string, int> RepliesSoFar()
    {
        var counts = new Dictionary<string, int>();
        var buffer = new byte[4096];
        foreach (var socket in _sockets)
        {
            try
            {
                if (socket.Available == 0) continue;
                var read = socket.Receive(buffer, SocketFlags.None);
                foreach (var line in Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
                {
                    var key = line.StartsWith("220", StringComparison.Ordinal) ? "220 (greeting)" : line;
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            }
            catch (SocketException) { counts["reset"] = counts.GetValueOrDefault("reset") + 1; }
        }
        return counts;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var socket in _sockets) socket.Dispose();
        _sockets.Clear();
        return ValueTask.CompletedTask;
    }
}
