using System.Net;
using System.Net.Sockets;

namespace Relay.Inbound;

/// <summary>An endpoint that could not be bound (taken by another process, an address not on this host): names it.</summary>
public sealed class ListenerBindException(ListenerKind kind, IPEndPoint endpoint, SocketException inner)
    : Exception($"cannot listen on {endpoint} ({kind}): {Reason(inner)}", inner)
{
    public ListenerKind Kind { get; } = kind;
    public IPEndPoint EndPoint { get; } = endpoint;

    private static string Reason(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "address already in use (another process listens there)",
        SocketError.AddressNotAvailable => "address not available on this host",
        SocketError.AccessDenied => "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)",
        _ => e.Message,
    };
}
