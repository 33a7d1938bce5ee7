using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Relay.Delivery;
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
            TrustAnchors = TrustAnchors(config.Raw["Tls:TrustAnchors"]),
            MtaStsPort = ConfigParsers.Integer("Relay:MtaSts:Port", config.Raw["MtaSts:Port"], defaults.MtaStsPort, 1, 65535),
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

    /// <summary>0 disables reuse; at most 5 minutes, the idle timeout RFC 5321 §4.5.3.2.7 gives servers (peers drop us then anyway).</summary>
    private static TimeSpan SessionIdle(string? value, TimeSpan fallback)
    {
        var idle = ConfigParsers.Duration("Relay:Delivery:SessionIdle", value, fallback);
        return idle <= TimeSpan.FromMinutes(5) ? idle
            : throw new ConfigException("Relay:Delivery:SessionIdle", value, "at most 5m: peers close idle clients after 5 minutes (RFC 5321 4.5.3.2.7)");
    }
}
