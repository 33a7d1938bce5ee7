using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Relay.TestKit.Dns;

/// <summary>
/// Random 127.a.b.c addresses (all of 127/8 is routed to lo on Linux), so that test processes running at
/// the same time each get their own address with the standard port. 127.0.x.x is avoided: the system's
/// own resolvers (127.0.0.1, 127.0.0.53) live there.
/// </summary>
public static class LoopbackAddress
{
    public static IPAddress Random() => new([127, (byte)RandomNumberGenerator.GetInt32(1, 255),
        (byte)RandomNumberGenerator.GetInt32(0, 256), (byte)RandomNumberGenerator.GetInt32(1, 255)]);

    /// <summary>A random address whose <paramref name="port"/> is free for both UDP and TCP right now.
    /// A server started on it can still lose a race; callers retry on a bind failure.</summary>
    public static IPAddress RandomFree(int port)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var address = Random();
            if (IsFree(address, port)) return address;
        }
        throw new InvalidOperationException($"no free 127.x.y.z address for port {port} after 20 attempts");
    }

    public static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(address, port));
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
