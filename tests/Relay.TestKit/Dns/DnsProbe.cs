using System.Net;
using System.Net.Sockets;

namespace Relay.TestKit.Dns;

/// <summary>Minimal readiness probe, independent of Relay.Dns so the kit can test the resolver it serves.</summary>
internal static class DnsProbe
{
    /// <summary>Sends one query for (<paramref name="name"/>, <paramref name="type"/>) and returns the RCODE, or null on no answer.</summary>
    public static async Task<int?> AskAsync(IPEndPoint server, string name, ushort type, bool recursionDesired, TimeSpan timeout)
    {
        var id = (ushort)Random.Shared.Next(65536);
        var query = new List<byte> { (byte)(id >> 8), (byte)id, (byte)(recursionDesired ? 1 : 0), 0, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (var label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            query.Add((byte)label.Length);
            query.AddRange(label.Select(c => (byte)c));
        }
        query.AddRange([0, (byte)(type >> 8), (byte)type, 0, 1]);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await socket.SendToAsync(query.ToArray(), SocketFlags.None, server, cts.Token).ConfigureAwait(false);
            var buffer = new byte[4096];
            while (true)
            {
                var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token).ConfigureAwait(false);
                if (r.ReceivedBytes >= 12 && buffer[0] == (byte)(id >> 8) && buffer[1] == (byte)id) return buffer[3] & 0xF;
            }
        }
        catch (OperationCanceledException) { return null; }
        catch (SocketException) { return null; }
    }
}
