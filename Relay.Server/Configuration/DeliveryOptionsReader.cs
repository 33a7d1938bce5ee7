using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Relay.Delivery;
using Relay.Delivery.Ipsec;
using Relay.Policy.Certificates;

namespace Relay.Server.Configuration;

/// <summary>
/// The one place the Relay:Delivery:* keys (and the shared ones delivery needs) become <see cref="DeliveryOptions"/>:
/// the delivery role and `relay check`'s live probe use the same options, so a check sees what delivery would do.
/// </summary>
internal static class DeliveryOptionsReader
{
    public static DeliveryOptions Read(RelayConfig config)
    {
        var relay = config.Raw;
        // A hosted domain's MX is this relay: without a route its mail would loop back to us.
        foreach (var domain in config.Domains.Where(d => !config.Routes.ContainsKey(d)))
            throw new ConfigException($"Relay:Routes:{domain}", null,
                "hosted domain has no route (e.g. \"[10.0.0.5]:25\"); delivering it by MX would loop back to this relay");
        var firstRetry = ConfigValues.Duration(relay, "Delivery:FirstRetry");
        var maxRetry = ConfigValues.Duration(relay, "Delivery:MaxRetry");
        var lifetime = ConfigValues.Duration(relay, "Delivery:Lifetime");
        var delayWarning = ConfigValues.OptionalDuration(relay, "Delivery:DelayWarning");
        if (firstRetry > maxRetry)
            throw new ConfigException("Relay:Delivery:FirstRetry", relay["Delivery:FirstRetry"] ?? ConfigParsers.FormatDuration(firstRetry),
                $"longer than Relay:Delivery:MaxRetry ({ConfigParsers.FormatDuration(maxRetry)}); retries start at FirstRetry and double up to MaxRetry");
        if (firstRetry >= lifetime)
            throw new ConfigException("Relay:Delivery:Lifetime", relay["Delivery:Lifetime"] ?? ConfigParsers.FormatDuration(lifetime),
                $"not longer than Relay:Delivery:FirstRetry ({ConfigParsers.FormatDuration(firstRetry)}): a message would bounce without a retry");
        if (delayWarning is { } warning && warning >= lifetime)
            throw new ConfigException("Relay:Delivery:DelayWarning", relay["Delivery:DelayWarning"],
                $"not shorter than Relay:Delivery:Lifetime ({ConfigParsers.FormatDuration(lifetime)}): the message bounces before the warning");
        return new DeliveryOptions
        {
            Hostname = config.Hostname,
            Port = config.DeliveryPort,
            DnsServers = config.DnsServers,
            Routes = config.Routes,
            DefaultPolicy = config.DefaultPolicy,
            Workers = ConfigValues.Integer(relay, "Delivery:Workers"),
            ClaimBatch = ConfigValues.Integer(relay, "Delivery:ClaimBatch"),
            DestinationConcurrency = ConfigValues.Integer(relay, "Delivery:DestinationConcurrency"),
            SessionIdle = ConfigValues.Duration(relay, "Delivery:SessionIdle"),
            Lease = ConfigValues.Duration(relay, "Delivery:Lease"),
            FirstRetry = firstRetry,
            MaxRetry = maxRetry,
            Lifetime = lifetime,
            Retention = ConfigValues.Duration(relay, "Delivery:Retention"),
            IdlePoll = ConfigValues.Duration(relay, "Delivery:IdlePoll"),
            DelayWarning = delayWarning,
            Ipsec = Ipsec(config),
            TrustAnchors = TrustAnchors(config.Raw["Tls:TrustAnchors"]),
            MtaStsPort = ConfigValues.Integer(relay, "MtaSts:Port"),
            History = new Relay.Policy.History.HistorySettings(ConfigValues.Boolean(relay, "Delivery:DowngradeProtection"),
                ConfigValues.Duration(relay, "Delivery:DowngradeWindow")),
            Timeouts = new Relay.Smtp.Client.SmtpClientTimeouts
            {
                Connect = ConfigValues.Duration(relay, "Delivery:ConnectTimeout"),
                Greeting = ConfigValues.Duration(relay, "Delivery:GreetingTimeout"),
                Command = ConfigValues.Duration(relay, "Delivery:CommandTimeout"),
                TlsHandshake = ConfigValues.Duration(relay, "Delivery:TlsHandshakeTimeout"),
                DataBlock = ConfigValues.Duration(relay, "Delivery:DataTimeout"),
                Dot = ConfigValues.Duration(relay, "Delivery:DotTimeout"),
            },
        };
    }

    /// <summary>Relay:Tls:TrustAnchors: a PEM bundle of CA certificates PKIX trusts instead of the system store; unset: the system store.</summary>
    private static X509Certificate2Collection? TrustAnchors(string? path)
    {
        const string key = "Relay:Tls:TrustAnchors";
        if (string.IsNullOrWhiteSpace(path)) return null;
        string pem;
        try { pem = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(key, path, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot be read: {e.Message}");
        }
        try { return TrustAnchorBundle.Parse(pem); }
        catch (FormatException e) { throw new ConfigException(key, path, e.Message); }
    }

    /// <summary>Relay:Ipsec:* (the libreswan sidecar). Read here only: the sidecar client lives in delivery.</summary>
    public static IpsecOptions Ipsec(RelayConfig config)
    {
        var relay = config.Raw;
        var ipsec = relay.GetSection("Ipsec");
        var defaults = new IpsecOptions();
        // The range (more than 0, at most 1m: every new connection waits for it) is the schema's.
        var timeout = ConfigValues.Duration(relay, "Ipsec:Timeout");
        var socket = string.IsNullOrWhiteSpace(ipsec["ControlSocket"]) ? defaults.ControlSocket : ipsec["ControlSocket"]!;
        if (!Path.IsPathRooted(socket))
            throw new ConfigException("Relay:Ipsec:ControlSocket", socket, "must be an absolute path to pluto's control socket");
        var directory = string.IsNullOrWhiteSpace(ipsec["PolicyDirectory"]) ? null : ipsec["PolicyDirectory"];
        if (directory is not null && !Path.IsPathRooted(directory))
            throw new ConfigException("Relay:Ipsec:PolicyDirectory", directory, "must be an absolute path (pluto's ipsecdir/policies)");
        return new IpsecOptions
        {
            Enabled = ConfigValues.Boolean(relay, "Ipsec:Enabled"),
            ControlSocket = socket,
            Timeout = timeout,
            PolicyDirectory = directory,
            Command = string.IsNullOrWhiteSpace(ipsec["Command"]) ? defaults.Command : ipsec["Command"]!,
        };
    }

    /// <summary>Legal values that are probably not meant.</summary>
    public static IReadOnlyList<string> Warnings(DeliveryOptions options)
    {
        var warnings = new List<string>();
        if (options.MaxRetry > options.Lifetime)
            warnings.Add($"Relay:Delivery:MaxRetry = \"{ConfigParsers.FormatDuration(options.MaxRetry)}\": longer than Relay:Delivery:Lifetime; the last retries never happen");
        return warnings;
    }
}
