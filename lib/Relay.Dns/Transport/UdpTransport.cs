using System.Net;
using System.Net.Sockets;
using Relay.Dns.Wire;

namespace Relay.Dns.Transport;

internal static class UdpTransport
{
    /// <summary>
    /// Sends from a fresh socket on a kernel-chosen (randomised) ephemeral port and waits until the deadline
    /// for a datagram from the server's address and port that answers the query; anything else is ignored
    /// so that a stray or forged datagram cannot end the wait.
    /// </summary>
    public static async Task<DnsExchange> ExchangeAsync(DnsServer server, DnsMessage query, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var endpoint = server.Endpoint;
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var ignored = "no answer";
        try
        {
            socket.Bind(new IPEndPoint(endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
            await socket.SendToAsync(query.ToBytes(), SocketFlags.None, endpoint, deadline.Token).ConfigureAwait(false);
            var buffer = new byte[65535];
            EndPoint any = new IPEndPoint(endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, deadline.Token).ConfigureAwait(false);
                if (!endpoint.Equals(received.RemoteEndPoint))
                {
                    ignored = $"ignored a datagram from {received.RemoteEndPoint}";
                    continue;
                }
                var packet = buffer.AsSpan(0, received.ReceivedBytes);
                if (!DnsMessage.TryParse(packet, out var response, out var error))
                {
                    // Only a datagram carrying our ID ends the wait as malformed; noise does not.
                    if (packet.Length >= 2 && ((packet[0] << 8) | packet[1]) == query.Id)
                        return DnsExchange.Fail(DnsErrorKind.Malformed, $"{endpoint}: {error}");
                    ignored = error;
                    continue;
                }
                if (DnsExchange.Mismatch(query, response) is { } mismatch)
                {
                    ignored = $"ignored an answer from {endpoint}: {mismatch}";
                    continue;
                }
                return DnsExchange.Answer(response, viaTcp: false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DnsExchange.Fail(DnsErrorKind.Timeout, $"{endpoint}: timeout after {timeout.TotalMilliseconds:0} ms ({ignored})");
        }
        catch (SocketException e)
        {
            return DnsExchange.Fail(DnsErrorKind.Network, $"{endpoint}: {e.SocketErrorCode}");
        }
    }
}
