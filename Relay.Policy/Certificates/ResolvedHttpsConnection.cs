using System.Net;
using System.Net.Sockets;
using Relay.Dns;

namespace Relay.Policy.Certificates;

/// <summary>
/// The connect step for Relay's own HTTPS clients (the MTA-STS policy fetch, TLS-RPT's https: reports): the host name is
/// resolved with Relay's resolver, the one delivery trusts, not the system's, and at most four of its addresses are tried
/// in order. Used as SocketsHttpHandler.ConnectCallback.
/// </summary>
public static class ResolvedHttpsConnection
{
    public static async ValueTask<Stream> ConnectAsync(IDnsResolver resolver, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = new List<IPAddress>();
        if (IPAddress.TryParse(host, out var literal)) addresses.Add(literal);
        else
            foreach (var type in new[] { DnsType.A, DnsType.AAAA })
            {
                var answer = await resolver.QueryAsync(host, type, cancellationToken).ConfigureAwait(false);
                addresses.AddRange(answer.RecordsOf<ARecord>().Select(r => r.Address));
                addresses.AddRange(answer.RecordsOf<AaaaRecord>().Select(r => r.Address));
            }
        if (addresses.Count == 0) throw new HttpRequestException($"{host} has no address");
        SocketException? last = null;
        foreach (var address in addresses.Take(4))
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw new HttpRequestException($"{host}: {last?.Message ?? "connect failed"}", last);
    }

    /// <summary>The innermost message of an HTTP failure: the one that says what happened (refused, reset, timed out).</summary>
    public static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }
}
