using Relay.Delivery;
using Relay.Delivery.TlsRpt;

namespace Relay.Server.Configuration;

/// <summary>Relay:TlsRpt:* (and the shared keys TLS reporting needs) as <see cref="TlsRptOptions"/>, for the delivery role and `relay tlsrpt`.</summary>
internal static class TlsRptOptionsReader
{
    public static TlsRptOptions Read(RelayConfig config, DeliveryOptions delivery)
    {
        var organization = Field(config, "TlsRpt:Organization");
        var contact = Field(config, "TlsRpt:Contact");
        return new TlsRptOptions(config.Hostname, organization, contact, delivery.TrustAnchors);
    }

    /// <summary>A header field's text: one line of printable characters (it goes into the JSON and into mail headers).</summary>
    private static string? Field(RelayConfig config, string key)
    {
        var value = config.Raw[key]?.Trim();
        if (string.IsNullOrEmpty(value)) return null;
        if (value.Length > 200 || value.Any(char.IsControl))
            throw new ConfigException("Relay:" + key, value, "must be one line of at most 200 printable characters");
        return value;
    }
}
