using System.Net;
using Microsoft.Extensions.Configuration;

namespace Relay.Server.Configuration;

/// <summary>
/// The validated configuration of DESIGN.md § Contracts. Everything is checked once at start-up, so a
/// running relay never meets a bad value; role-specific extras are read from <see cref="Raw"/>.
/// </summary>
public sealed record RelayConfig(
    string Hostname,
    string? Database,
    IReadOnlyList<IPEndPoint> SmtpListen,
    IReadOnlyList<IPEndPoint> SmtpSubmission,
    IReadOnlyList<IPEndPoint> SmtpImplicitTls,
    IReadOnlyList<IPEndPoint> WebListen,
    IReadOnlyList<string> Domains,
    IReadOnlyDictionary<string, (string Host, int Port)> Routes,
    IReadOnlyList<IPNetwork> TrustedNetworks,
    IReadOnlyList<IPEndPoint> DnsServers,
    int DeliveryPort,
    string? TlsCertificate,
    string? TlsKey,
    string DefaultPolicy,
    string? AdminUser,
    string? AdminPasswordHash,
    string DataDirectory,
    IConfiguration Raw)
{
    public const string Section = "Relay";

    /// <summary>The database connection string, or a configuration error naming the key.</summary>
    public string RequireDatabase() =>
        Database ?? throw new ConfigException("Relay:Database", null, "not set (an Npgsql connection string, e.g. Host=/run/postgresql;Database=relay)");

    /// <summary>Policy levels of DESIGN.md § Policy levels, in the Postfix-compatible spelling.</summary>
    public static readonly IReadOnlyList<string> PolicyLevels = ["none", "may", "encrypt", "dane", "dane-only", "verify", "secure", "fingerprint"];

    public static RelayConfig From(IConfiguration configuration)
    {
        var relay = configuration.GetSection(Section);
        var hostname = relay["Hostname"] is { Length: > 0 } h ? ConfigParsers.Domain("Relay:Hostname", h) : SafeHostName();

        var defaultPolicy = relay["Policy:Default"] is { Length: > 0 } p ? p.Trim().ToLowerInvariant() : "dane";
        if (!PolicyLevels.Contains(defaultPolicy))
            throw new ConfigException("Relay:Policy:Default", relay["Policy:Default"], $"unknown policy level; expected one of {string.Join(", ", PolicyLevels)}");

        var certificate = relay["Tls:Certificate"];
        var key = relay["Tls:Key"];
        if (string.IsNullOrEmpty(certificate) != string.IsNullOrEmpty(key))
            throw new ConfigException(string.IsNullOrEmpty(certificate) ? "Relay:Tls:Certificate" : "Relay:Tls:Key", null,
                "Relay:Tls:Certificate and Relay:Tls:Key must be set together");
        foreach (var (name, path) in new[] { ("Relay:Tls:Certificate", certificate), ("Relay:Tls:Key", key) })
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
                throw new ConfigException(name, path, "file not found");

        var routes = new Dictionary<string, (string, int)>(StringComparer.OrdinalIgnoreCase);
        foreach (var route in relay.GetSection("Routes").GetChildren())
        {
            var routeKey = $"Relay:Routes:{route.Key}";
            var domain = ConfigParsers.Domain(routeKey, route.Key);
            routes[domain] = ParseRoute(routeKey, route.Value ?? "");
        }

        return new RelayConfig(
            hostname,
            string.IsNullOrWhiteSpace(relay["Database"]) ? null : relay["Database"],
            List(relay, "Smtp:Listen", ConfigParsers.EndPoint),
            List(relay, "Smtp:Submission", ConfigParsers.EndPoint),
            List(relay, "Smtp:ImplicitTls", ConfigParsers.EndPoint),
            List(relay, "Web:Listen", ConfigParsers.EndPoint, ["127.0.0.1:8080"]),
            List(relay, "Domains", ConfigParsers.Domain),
            routes,
            List(relay, "TrustedNetworks", ConfigParsers.Cidr),
            List(relay, "Dns:Servers", ConfigParsers.EndPoint, ["127.0.0.1:53"]),
            ConfigParsers.Integer("Relay:Delivery:Port", relay["Delivery:Port"], 25, 1, 65535),
            string.IsNullOrEmpty(certificate) ? null : certificate,
            string.IsNullOrEmpty(key) ? null : key,
            defaultPolicy,
            string.IsNullOrWhiteSpace(relay["Web:AdminUser"]) ? null : relay["Web:AdminUser"],
            string.IsNullOrWhiteSpace(relay["Web:AdminPasswordHash"]) ? null : relay["Web:AdminPasswordHash"],
            string.IsNullOrWhiteSpace(relay["DataDirectory"]) ? "data" : relay["DataDirectory"]!,
            relay);
    }

    /// <summary>"host:port", "[address]:port", "host" or "[address]" (port 25).</summary>
    public static (string Host, int Port) ParseRoute(string key, string value)
    {
        var text = value.Trim();
        if (text.Length == 0)
            throw new ConfigException(key, value, "empty route; expected host:port or [address]:port");
        if (text.StartsWith('[') && text.EndsWith(']'))
            text += ":25";
        else if (!text.StartsWith('[') && !text.Contains(':'))
            text += ":25";
        var (host, port) = ConfigParsers.HostPort(key, text, allowHost: true);
        if (port == 0)
            throw new ConfigException(key, value, "port 0 is not a destination port");
        return (host, port);
    }

    private static IReadOnlyList<T> List<T>(IConfigurationSection relay, string name, Func<string, string, T> parse, string[]? fallback = null)
    {
        var section = relay.GetSection(name);
        var children = section.GetChildren().ToList();
        // A plain string ("Relay__Domains=example.org") is accepted as a one-element list.
        var items = children.Count > 0
            ? children.Select(c => ($"Relay:{name}:{c.Key}", c.Value ?? "")).ToList()
            : section.Value is { Length: > 0 } single
                ? single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select((v, i) => ($"Relay:{name}:{i}", v)).ToList()
                : (fallback ?? []).Select((v, i) => ($"Relay:{name}:{i}", v)).ToList();
        return items.Select(item => parse(item.Item1, item.Item2.Trim())).ToList();
    }

    private static string SafeHostName()
    {
        var name = System.Net.Dns.GetHostName();
        return ConfigParsers.IsDomainName(name) ? name.ToLowerInvariant() : "localhost";
    }
}
