using System.Net;

namespace Relay.Delivery.Ipsec;

/// <summary>A destination prefix as the operator types it: CIDR (bits after the length must be zero) or a bare address (/32, /128).</summary>
public static class IpsecPrefix
{
    /// <exception cref="FormatException">The text, named, and what is wrong with it.</exception>
    public static IPNetwork Parse(string? text)
    {
        var t = (text ?? "").Trim();
        if (IPAddress.TryParse(t, out var single) && !t.Contains('/'))
            return new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        var slash = t.IndexOf('/');
        if (slash <= 0 || !IPAddress.TryParse(t[..slash], out var given) || !IPNetwork.TryParse(t, out var network))
            throw new FormatException($"'{text}' is not a prefix (e.g. 192.0.2.0/24, 2001:db8::/32 or one address)");
        if (!network.BaseAddress.Equals(given))
            throw new FormatException($"'{text}' has bits set after the prefix length (did you mean {network}?)");
        return network;
    }
}
