using System.Globalization;
using System.Net;

namespace Relay.Policy.Planning;

/// <summary>
/// Where a recipient domain's mail goes: its MX hosts (<see cref="RouteHost"/> and <see cref="RouteAddress"/>
/// null), or a configured route ("[10.0.0.5]:25", "[store.internal]:2525", "store.internal") to one host
/// with no MX lookup. Port is the SMTP port, which is also the TLSA owner's "_PORT._tcp" label.
/// </summary>
public sealed record NextHop(string Domain, string? RouteHost, IPAddress? RouteAddress, int Port, string? RouteText)
{
    public bool IsRoute => RouteText is not null;

    public static NextHop ForDomain(string domain, int port = 25) => new(Normalize(domain), null, null, port, null);

    /// <summary>Parses a route; <see cref="FormatException"/> names the bad value.</summary>
    public static NextHop ForRoute(string domain, string route, int defaultPort = 25)
    {
        var text = route.Trim();
        var port = defaultPort;
        string host;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0) throw new FormatException($"route '{route}': missing ']'");
            host = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
                throw new FormatException($"route '{route}': bad port '{rest}'");
        }
        else
        {
            var colon = text.LastIndexOf(':');
            host = text;
            if (colon > 0 && text.IndexOf(':') == colon)
            {
                if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                    throw new FormatException($"route '{route}': bad port");
                host = text[..colon];
            }
        }
        if (IPAddress.TryParse(host, out var address)) return new NextHop(Normalize(domain), null, address, port, text);
        if (!Relay.Dns.DnsName.TryNormalize(host, out _) || host.Length == 0) throw new FormatException($"route '{route}': '{host}' is neither an address nor a host name");
        return new NextHop(Normalize(domain), Normalize(host), null, port, text);
    }

    internal static string Normalize(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();

    public override string ToString() => RouteText is null ? Domain : $"{Domain} via {RouteText}";
}
