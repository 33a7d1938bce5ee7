using Microsoft.Extensions.Configuration;
using Relay.Delivery;
using Relay.Delivery.Ipsec;

namespace Relay.Server.Configuration;

/// <summary>
/// The one place the Relay:Delivery:* keys (and the shared ones delivery needs) become <see cref="DeliveryOptions"/>:
/// the delivery role and `relay check`'s live probe use the same options, so a check sees what delivery would do.
/// </summary>
internal static class DeliveryOptionsReader
{
    public static DeliveryOptions Read(RelayConfig config)
    {
        var delivery = config.Raw.GetSection("Delivery");
        var defaults = new DeliveryOptions();
        // A hosted domain's MX is this relay: without a route its mail would loop back to us.
        foreach (var domain in config.Domains.Where(d => !config.Routes.ContainsKey(d)))
            throw new ConfigException($"Relay:Routes:{domain}", null,
                "hosted domain has no route (e.g. \"[10.0.0.5]:25\"); delivering it by MX would loop back to this relay");
        return new DeliveryOptions
        {
            Hostname = config.Hostname,
            Port = config.DeliveryPort,
            DnsServers = config.DnsServers,
            Routes = config.Routes,
            DefaultPolicy = config.DefaultPolicy,
            Workers = ConfigParsers.Integer("Relay:Delivery:Workers", delivery["Workers"], defaults.Workers, 1, 256),
            ClaimBatch = ConfigParsers.Integer("Relay:Delivery:ClaimBatch", delivery["ClaimBatch"], defaults.ClaimBatch, 1, 10_000),
            DestinationConcurrency = ConfigParsers.Integer("Relay:Delivery:DestinationConcurrency", delivery["DestinationConcurrency"],
                defaults.DestinationConcurrency, 1, 1000),
            SessionIdle = SessionIdle(delivery["SessionIdle"], defaults.SessionIdle),
            Lease = ConfigParsers.Duration("Relay:Delivery:Lease", delivery["Lease"], defaults.Lease),
            FirstRetry = ConfigParsers.Duration("Relay:Delivery:FirstRetry", delivery["FirstRetry"], defaults.FirstRetry),
            MaxRetry = ConfigParsers.Duration("Relay:Delivery:MaxRetry", delivery["MaxRetry"], defaults.MaxRetry),
            Lifetime = ConfigParsers.Duration("Relay:Delivery:Lifetime", delivery["Lifetime"], defaults.Lifetime),
            IdlePoll = ConfigParsers.Duration("Relay:Delivery:IdlePoll", delivery["IdlePoll"], defaults.IdlePoll),
            DelayWarning = string.IsNullOrWhiteSpace(delivery["DelayWarning"])
                ? null : ConfigParsers.Duration("Relay:Delivery:DelayWarning", delivery["DelayWarning"], TimeSpan.Zero),
            Ipsec = Ipsec(config),
        };
    }

    /// <summary>Relay:Ipsec:* (the libreswan sidecar). Read here only: the sidecar client lives in delivery.</summary>
    public static IpsecOptions Ipsec(RelayConfig config)
    {
        var ipsec = config.Raw.GetSection("Ipsec");
        var defaults = new IpsecOptions();
        var timeout = ConfigParsers.Duration("Relay:Ipsec:Timeout", ipsec["Timeout"], defaults.Timeout);
        if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromMinutes(1))
            throw new ConfigException("Relay:Ipsec:Timeout", ipsec["Timeout"], "must be more than 0 and at most 1m: every new connection waits for it");
        var socket = string.IsNullOrWhiteSpace(ipsec["ControlSocket"]) ? defaults.ControlSocket : ipsec["ControlSocket"]!;
        if (!Path.IsPathRooted(socket))
            throw new ConfigException("Relay:Ipsec:ControlSocket", socket, "must be an absolute path to pluto's control socket");
        var directory = string.IsNullOrWhiteSpace(ipsec["PolicyDirectory"]) ? null : ipsec["PolicyDirectory"];
        if (directory is not null && !Path.IsPathRooted(directory))
            throw new ConfigException("Relay:Ipsec:PolicyDirectory", directory, "must be an absolute path (pluto's ipsecdir/policies)");
        return new IpsecOptions
        {
            Enabled = ConfigParsers.Boolean("Relay:Ipsec:Enabled", ipsec["Enabled"], defaults.Enabled),
            ControlSocket = socket,
            Timeout = timeout,
            PolicyDirectory = directory,
            Command = string.IsNullOrWhiteSpace(ipsec["Command"]) ? defaults.Command : ipsec["Command"]!,
        };
    }

    /// <summary>0 disables reuse; at most 5 minutes, the idle timeout RFC 5321 §4.5.3.2.7 gives servers (peers drop us then anyway).</summary>
    private static TimeSpan SessionIdle(string? value, TimeSpan fallback)
    {
        var idle = ConfigParsers.Duration("Relay:Delivery:SessionIdle", value, fallback);
        return idle <= TimeSpan.FromMinutes(5) ? idle
            : throw new ConfigException("Relay:Delivery:SessionIdle", value, "at most 5m: peers close idle clients after 5 minutes (RFC 5321 4.5.3.2.7)");
    }
}
