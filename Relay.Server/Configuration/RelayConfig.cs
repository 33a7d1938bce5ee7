using System.Net;
using Microsoft.Extensions.Configuration;
using Relay.Policy;
using Relay.Policy.Planning;

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
    IReadOnlyDictionary<string, NextHop> Routes,
    IReadOnlyList<IPNetwork> TrustedNetworks,
    IReadOnlyList<IPEndPoint> DnsServers,
    int DeliveryPort,
    string? TlsCertificate,
    string? TlsKey,
    PolicyLevel DefaultPolicy,
    string? AdminUser,
    string? AdminPasswordHash,
    string DataDirectory,
    IConfiguration Raw)
{
    public const string Section = "Relay";

    /// <summary>The database connection string, or a configuration error naming the key.</summary>
    public string RequireDatabase() =>
        Database ?? throw new ConfigException("Relay:Database", null, "not set (an Npgsql connection string, e.g. Host=/run/postgresql;Database=relay)");

    public static RelayConfig From(IConfiguration configuration)
    {
        var relay = configuration.GetSection(Section);
        ConfigValidator.Validate(relay);
        var hostname = relay["Hostname"] is { Length: > 0 } h ? ConfigParsers.Domain("Relay:Hostname", h) : SafeHostName();

        var defaultPolicy = PolicyLevel.Dane;
        var defaultText = relay["Policy:Default"];
        if (!string.IsNullOrEmpty(defaultText) && !PolicyLevelWire.TryParse(defaultText, out defaultPolicy))
            throw new ConfigException("Relay:Policy:Default", defaultText, $"unknown policy level; expected one of {string.Join(", ", PolicyLevelWire.AllNames)}");
        if (defaultPolicy == PolicyLevel.Fingerprint)
            throw new ConfigException("Relay:Policy:Default", defaultText, "fingerprint needs per-destination fingerprints; use it only in the policy table");

        var certificate = relay["Tls:Certificate"];
        var key = relay["Tls:Key"];
        if (string.IsNullOrEmpty(certificate) != string.IsNullOrEmpty(key))
            throw new ConfigException(string.IsNullOrEmpty(certificate) ? "Relay:Tls:Certificate" : "Relay:Tls:Key", null,
                "Relay:Tls:Certificate and Relay:Tls:Key must be set together");
        foreach (var (name, path) in new[] { ("Relay:Tls:Certificate", certificate), ("Relay:Tls:Key", key) })
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
                throw new ConfigException(name, path, "file not found");

        var deliveryPort = ConfigValues.Integer(relay, "Delivery:Port");
        var routes = new Dictionary<string, NextHop>(StringComparer.OrdinalIgnoreCase);
        foreach (var route in relay.GetSection("Routes").GetChildren())
        {
            var routeKey = $"Relay:Routes:{route.Key}";
            var domain = ConfigParsers.Domain(routeKey, route.Key);
            routes[domain] = Route(routeKey, domain, route.Value ?? "");
        }

        var smtpListen = List(relay, "Smtp:Listen", ConfigParsers.EndPoint);
        var smtpSubmission = List(relay, "Smtp:Submission", ConfigParsers.EndPoint);
        var smtpImplicitTls = List(relay, "Smtp:ImplicitTls", ConfigParsers.EndPoint);
        var webListen = List(relay, "Web:Listen", ConfigParsers.EndPoint);
        EndpointConflicts.Refuse(relay, ["Smtp:Listen", "Smtp:Submission", "Smtp:ImplicitTls", "Web:Listen", "Metrics:Listen"]);

        return new RelayConfig(
            hostname,
            string.IsNullOrWhiteSpace(relay["Database"]) ? null : relay["Database"],
            smtpListen,
            smtpSubmission,
            smtpImplicitTls,
            webListen,
            List(relay, "Domains", ConfigParsers.Domain),
            routes,
            List(relay, "TrustedNetworks", ConfigParsers.Cidr),
            List(relay, "Dns:Servers", ConfigParsers.EndPoint),
            deliveryPort,
            string.IsNullOrEmpty(certificate) ? null : certificate,
            string.IsNullOrEmpty(key) ? null : key,
            defaultPolicy,
            string.IsNullOrWhiteSpace(relay["Web:AdminUser"]) ? null : relay["Web:AdminUser"],
            string.IsNullOrWhiteSpace(relay["Web:AdminPasswordHash"]) ? null : relay["Web:AdminPasswordHash"],
            string.IsNullOrWhiteSpace(relay["DataDirectory"]) ? "data" : relay["DataDirectory"]!,
            relay);
    }

    /// <summary>
    /// The next hop of a route, its text in the canonical "[address]:port" / "host:port" form, which is also the key an
    /// explicit policy for the route is written under.
    /// </summary>
    private static NextHop Route(string key, string domain, string value)
    {
        var (host, port) = ParseRoute(key, value);
        var text = IPAddress.TryParse(host, out var address) ? $"[{address}]:{port}" : $"{host.ToLowerInvariant()}:{port}";
        try { return NextHop.ForRoute(domain, text); }
        catch (FormatException e) { throw new ConfigException(key, value, e.Message); }
    }

    /// <summary>"host:port", "[address]:port", "host" or "[address]" (port 25).</summary>
    private static (string Host, int Port) ParseRoute(string key, string value)
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

    /// <summary>A list key's entries as (key, value), its schema default when it is not set.</summary>
    internal static List<(string Key, string Value)> Entries(IConfiguration relay, string name)
    {
        // A list's default may name several entries, comma-separated.
        var fallback = ConfigSchema.Get(name).Default is { } d ? d.Split(',', StringSplitOptions.TrimEntries) : [];
        var section = relay.GetSection(name);
        var children = section.GetChildren().ToList();
        // A plain string ("Relay__Domains=example.org") is accepted as a one-element list.
        var items = children.Count > 0
            ? children.Select(c => ($"Relay:{name}:{c.Key}", c.Value ?? "")).ToList()
            : section.Value is { Length: > 0 } single
                ? single.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select((v, i) => ($"Relay:{name}:{i}", v)).ToList()
                : fallback.Select((v, i) => ($"Relay:{name}:{i}", v)).ToList();
        return items.Select(item => (item.Item1, item.Item2.Trim())).ToList();
    }

    private static IReadOnlyList<T> List<T>(IConfigurationSection relay, string name, Func<string, string, T> parse) =>
        Entries(relay, name).Select(item => parse(item.Key, item.Value)).ToList();

    private static string SafeHostName()
    {
        var name = System.Net.Dns.GetHostName();
        return ConfigParsers.IsDomainName(name) ? name.ToLowerInvariant() : "localhost";
    }
}
