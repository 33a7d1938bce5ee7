using System.Buffers.Binary;
using System.Net.Sockets;
using Relay.Dns.Wire;

namespace Relay.Dns.Transport;

internal static class TcpTransport
{
    /// <summary>One query over one TCP connection (RFC 7766 two-octet length framing), all within the deadline.</summary>
    public static async Task<DnsExchange> ExchangeAsync(DnsServer server, DnsMessage query, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var endpoint = server.Endpoint;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, deadline.Token).ConfigureAwait(false);
            var body = query.ToBytes();
            var frame = new byte[body.Length + 2];
            BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)body.Length);
            body.CopyTo(frame, 2);
            await socket.SendAsync(frame, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            var lengthBytes = new byte[2];
            if (!await ReadExactlyAsync(socket, lengthBytes, deadline.Token).ConfigureAwait(false))
                return DnsExchange.Fail(DnsErrorKind.Network, $"{endpoint}: TCP connection closed before an answer");
            var packet = new byte[BinaryPrimitives.ReadUInt16BigEndian(lengthBytes)];
            if (!await ReadExactlyAsync(socket, packet, deadline.Token).ConfigureAwait(false))
                return DnsExchange.Fail(DnsErrorKind.Malformed, $"{endpoint}: TCP answer shorter than its length prefix");
            if (!DnsMessage.TryParse(packet, out var response, out var error))
                return DnsExchange.Fail(DnsErrorKind.Malformed, $"{endpoint}: {error}");
            if (DnsExchange.Mismatch(query, response) is { } mismatch)
                return DnsExchange.Fail(DnsErrorKind.Malformed, $"{endpoint}: TCP answer rejected: {mismatch}");
            return DnsExchange.Answer(response, viaTcp: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DnsExchange.Fail(DnsErrorKind.Timeout, $"{endpoint}: TCP timeout after {timeout.TotalMilliseconds:0} ms");
        }
        catch (SocketException e)
        {
            return DnsExchange.Fail(DnsErrorKind.Network, $"{endpoint}: TCP {e.SocketErrorCode}");
        }
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken token)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, token).ConfigureAwait(false);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }
}
