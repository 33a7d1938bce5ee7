using System.Net;

namespace Relay.Web;

/// <summary>Configurations the web role accepts but an operator should hear about at start-up.</summary>
public static class WebWarnings
{
    /// <summary>
    /// Plain HTTP on an address other hosts can reach sends the admin password and session cookie in cleartext over
    /// the network. Loopback (behind a TLS reverse proxy or an SSH tunnel) is the intended plain-HTTP use.
    /// </summary>
    public static IReadOnlyList<string> PlainHttpOnOpenAddresses(WebOptions options)
    {
        if (options.Certificate is not null) return [];
        return WebHost.ParseListen(options.Listen.Count == 0 ? WebOptions.DefaultListen : options.Listen)
            .Where(e => !IPAddress.IsLoopback(e.Address))
            .Select(e => $"web: admin UI listens on {e} over plain HTTP: the password and session cookie cross the network in cleartext; " +
                "configure Relay:Web:Certificate and Relay:Web:Key, or listen on 127.0.0.1 behind a TLS reverse proxy")
            .ToList();
    }
}
