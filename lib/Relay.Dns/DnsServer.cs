using System.Net;

namespace Relay.Dns;

/// <summary>
/// A resolver to ask. <paramref name="Trusted"/> means "a validating resolver over a path we trust"
/// (normally a local unbound): only then is its AD bit believed (RFC 6698 §4.1, RFC 7672 §2.1.1).
/// </summary>
public sealed record DnsServer(IPEndPoint Endpoint, bool Trusted)
{
    /// <summary>Parses "ADDR:PORT", "[V6]:PORT" or a bare address (port 53).</summary>
    public static bool TryParse(string? text, bool trusted, out DnsServer? server)
    {
        server = null;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (IPAddress.TryParse(text, out var bare) && !text.Contains(']'))
        {
            server = new DnsServer(new IPEndPoint(bare, 53), trusted);
            return true;
        }
        if (!IPEndPoint.TryParse(text, out var ep) || ep.Port == 0) return false;
        // IPEndPoint.TryParse accepts a bare IPv6 address with a trailing ":n" group as a port; insist on brackets.
        if (ep.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !text.StartsWith('[')) return false;
        server = new DnsServer(ep, trusted);
        return true;
    }

    public override string ToString() => $"{Endpoint}{(Trusted ? " (trusted)" : "")}";
}
