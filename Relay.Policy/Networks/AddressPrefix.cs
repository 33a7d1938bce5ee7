using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Relay.Policy.Networks;

/// <summary>
/// An address prefix as an operator types it for an IPsec class (the web form and `relay ipsec class set`
/// share this parser; no I/O). Accepted only when it prints back exactly as typed — IPv6 hex digits may differ
/// in case — so the prefix stored is the prefix meant: .NET's address parser also takes "1.2.3", "127.1",
/// "0x7f000001" and scoped IPv6 ("fe80::1%eth0"), and each of those would silently store another address.
/// A bare address means a single host (/32 or /128).
/// </summary>
public static class AddressPrefix
{
    /// <returns>null on success, else what is wrong with the text (with the canonical form when one was probably meant).</returns>
    public static string? TryParse(string? text, out IPNetwork prefix)
    {
        prefix = default;
        var input = (text ?? "").Trim();
        if (input.Length == 0) return "is required: an address prefix such as 192.0.2.0/24 or 2001:db8::/32";
        if (input.Contains('%')) return "must not carry an IPv6 zone (%…): a zone names a local interface, not a network";
        var slash = input.IndexOf('/');
        var addressText = slash < 0 ? input : input[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0))
            return "must be an address prefix such as 192.0.2.0/24 or 2001:db8::/32";
        var canonical = address.ToString();
        var ipv6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        if (!string.Equals(canonical, addressText, ipv6 ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            return $"'{addressText}' is not written in the standard form (it would be read as {canonical}); type {canonical} if that is what you mean";
        var maxLength = ipv6 ? 128 : 32;
        var length = maxLength;
        if (slash >= 0)
        {
            var lengthText = input[(slash + 1)..];
            if (!int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > maxLength
                || length.ToString(CultureInfo.InvariantCulture) != lengthText)
                return $"prefix length '{lengthText}' must be a number from 0 to {maxLength} without leading zeros";
        }
        var network = new IPNetwork(Masked(address, length), length);
        if (!network.BaseAddress.Equals(address))
            // An operator who typed host bits probably meant something else; never mask them silently.
            return $"has bits set after the prefix length (did you mean {network}?)";
        prefix = network;
        return null;
    }

    private static IPAddress Masked(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(length - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }
}
