using System.Net;
using System.Net.Sockets;
using Relay.Dns.Wire;

namespace Relay.Dns.Tests;

/// <summary>
/// A scripted DNS server on 127.0.0.1 (UDP and TCP on the same port) for transport tests: the script gets
/// each query and decides what to send back and from which socket.
/// </summary>
internal sealed class FakeDnsServer : IAsyncDisposable
{
    public delegate Task UdpScript(DnsMessage query, byte[] raw, Func<byte[], Task> reply, Func<byte[], Task> replyFromOtherPort);

    private readonly Socket _udp = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Socket _other = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly TcpListener _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _udpLoop;
    private readonly Task _tcpLoop;
    private int _udpQueries;
    private int _tcpQueries;

    public FakeDnsServer(UdpScript udp, Func<DnsMessage, DnsMessage?>? tcp = null)
    {
        // Find a port free for both UDP and TCP.
        for (var attempt = 0; ; attempt++)
        {
            _udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)_udp.LocalEndPoint!).Port;
            try
            {
                _tcp = new TcpListener(IPAddress.Loopback, port);
                _tcp.Start();
                break;
            }
            catch (SocketException) when (attempt < 10)
            {
                _udp.Close();
                _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            }
        }
        _other.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Endpoint = (IPEndPoint)_udp.LocalEndPoint!;
        _udpLoop = UdpLoopAsync(udp);
        _tcpLoop = TcpLoopAsync(tcp ?? (_ => null));
    }

    public IPEndPoint Endpoint { get; }
    public int UdpQueries => Volatile.Read(ref _udpQueries);
    public int TcpQueries => Volatile.Read(ref _tcpQueries);

    /// <summary>An answer echoing the query with the given records, flags and rcode.</summary>
    public static DnsMessage Answer(DnsMessage query, IReadOnlyList<DnsRecord>? answers = null, bool ad = false,
        DnsRcode rcode = DnsRcode.NoError, bool truncated = false, IReadOnlyList<DnsRecord>? authorities = null, DnsEdns? edns = null) => new()
    {
        Id = query.Id,
        IsResponse = true,
        RecursionDesired = true,
        RecursionAvailable = true,
        AuthenticData = ad,
        Truncated = truncated,
        Rcode = rcode,
        Questions = query.Questions,
        Answers = answers ?? [],
        Authorities = authorities ?? [],
        Edns = edns,
    };

    private async Task UdpLoopAsync(UdpScript script)
    {
        var buffer = new byte[65535];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var r = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                var raw = buffer[..r.ReceivedBytes];
                if (!DnsMessage.TryParse(raw, out var query, out _)) continue;
                Interlocked.Increment(ref _udpQueries);
                var client = r.RemoteEndPoint;
                _ = script(query, raw,
                    bytes => _udp.SendToAsync(bytes, SocketFlags.None, client),
                    bytes => _other.SendToAsync(bytes, SocketFlags.None, client));
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    private async Task TcpLoopAsync(Func<DnsMessage, DnsMessage?> script)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                using var client = await _tcp.AcceptTcpClientAsync(_stop.Token);
                var stream = client.GetStream();
                var length = new byte[2];
                await stream.ReadExactlyAsync(length, _stop.Token);
                var body = new byte[(length[0] << 8) | length[1]];
                await stream.ReadExactlyAsync(body, _stop.Token);
                Interlocked.Increment(ref _tcpQueries);
                if (!DnsMessage.TryParse(body, out var query, out _) || script(query) is not { } answer) continue;
                var bytes = answer.ToBytes();
                await stream.WriteAsync(new byte[] { (byte)(bytes.Length >> 8), (byte)bytes.Length }, _stop.Token);
                await stream.WriteAsync(bytes, _stop.Token);
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
        catch (IOException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _udp.Close();
        _other.Close();
        _tcp.Stop();
        await Task.WhenAll(_udpLoop, _tcpLoop).WaitAsync(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
