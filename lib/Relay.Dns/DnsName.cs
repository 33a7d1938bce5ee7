using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Relay.Dns;

/// <summary>
/// Names travel through the API as absolute presentation strings with a trailing dot ("mx.example.org.",
/// root "."), escaped per RFC 1035 §5.1. Comparison is ASCII case-insensitive (RFC 4343).
/// </summary>
public static class DnsName
{
    public const int MaxWireLength = 255;
    public const int MaxLabelLength = 63;

    /// <summary>Parses user or zone-file text (relative names are taken as absolute) into canonical presentation.</summary>
    public static bool TryNormalize(string? text, [NotNullWhen(true)] out string? name)
    {
        name = null;
        if (text is null || !TryToLabels(text.Trim(), out var labels)) return false;
        name = FromLabels(labels);
        return true;
    }

    /// <summary>Canonical form, or <see cref="ArgumentException"/> for text that is not a domain name.</summary>
    public static string Normalize(string text) =>
        TryNormalize(text, out var name) ? name : throw new ArgumentException($"not a domain name: '{text}'", nameof(text));

    /// <summary>
    /// The reverse-mapping name of an address (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa nibbles), where RFC 4322
    /// looks for a host's IPSECKEY. An IPv4-mapped IPv6 address is reversed as the IPv4 address it carries.
    /// </summary>
    public static string Reverse(System.Net.IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        var bytes = address.GetAddressBytes();
        var sb = new StringBuilder();
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            for (var i = bytes.Length - 1; i >= 0; i--) sb.Append(bytes[i]).Append('.');
            return sb.Append("in-addr.arpa.").ToString();
        }
        const string hex = "0123456789abcdef";
        for (var i = bytes.Length - 1; i >= 0; i--) sb.Append(hex[bytes[i] & 0xF]).Append('.').Append(hex[bytes[i] >> 4]).Append('.');
        return sb.Append("ip6.arpa.").ToString();
    }

    public static bool Equal(string? a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>Lower-case canonical form for use as a key (cache, dictionaries).</summary>
    public static string Key(string name) => name.ToLowerInvariant();

    /// <summary>True when <paramref name="name"/> equals <paramref name="zone"/> or lies below it.</summary>
    public static bool IsSubdomainOf(string name, string zone)
    {
        // Label by label: "x\.example." is one label and not below "example.".
        if (!TryToLabels(name, out var n) || !TryToLabels(zone, out var z) || z.Count > n.Count) return false;
        for (var i = 1; i <= z.Count; i++)
        {
            if (!n[^i].AsSpan().SequenceEqual(z[^i]) && !AsciiEqualIgnoreCase(n[^i], z[^i])) return false;
        }
        return true;
    }

    private static bool AsciiEqualIgnoreCase(byte[] a, byte[] b)
    {
        if (a.Length != b.Length) return false;
        for (var i = 0; i < a.Length; i++)
        {
            var x = a[i] is >= (byte)'A' and <= (byte)'Z' ? a[i] + 32 : a[i];
            var y = b[i] is >= (byte)'A' and <= (byte)'Z' ? b[i] + 32 : b[i];
            if (x != y) return false;
        }
        return true;
    }

    internal static bool TryToLabels(string text, [NotNullWhen(true)] out List<byte[]>? labels)
    {
        labels = null;
        if (text.Length == 0) return false;
        var result = new List<byte[]>();
        if (text == ".") { labels = result; return true; }
        var current = new List<byte>();
        var wire = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '.')
            {
                if (current.Count == 0) return false; // empty label ("a..b", ".a")
                result.Add(current.ToArray());
                wire += current.Count + 1;
                current.Clear();
                continue;
            }
            if (c == '\\')
            {
                if (i + 1 >= text.Length) return false;
                if (char.IsAsciiDigit(text[i + 1]))
                {
                    if (i + 3 >= text.Length) return false;
                    if (!char.IsAsciiDigit(text[i + 2]) || !char.IsAsciiDigit(text[i + 3])) return false;
                    var value = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
                    if (value > 255) return false;
                    current.Add((byte)value);
                    i += 3;
                }
                else
                {
                    if (text[i + 1] > 0x7E) return false;
                    current.Add((byte)text[i + 1]);
                    i += 1;
                }
            }
            else
            {
                if (c <= ' ' || c > 0x7E) return false; // non-ASCII must be A-labels (IDNA) before reaching DNS
                current.Add((byte)c);
            }
            if (current.Count > MaxLabelLength) return false;
        }
        if (current.Count > 0)
        {
            result.Add(current.ToArray());
            wire += current.Count + 1;
        }
        if (wire > MaxWireLength) return false;
        labels = result;
        return true;
    }

    internal static string FromLabels(IReadOnlyList<byte[]> labels)
    {
        if (labels.Count == 0) return ".";
        var sb = new StringBuilder();
        foreach (var label in labels)
        {
            AppendLabel(sb, label);
            sb.Append('.');
        }
        return sb.ToString();
    }

    internal static void AppendLabel(StringBuilder sb, ReadOnlySpan<byte> label)
    {
        foreach (var b in label)
        {
            if (b is (byte)'.' or (byte)'\\' or (byte)'"' or (byte)'(' or (byte)')' or (byte)';' or (byte)'@' or (byte)'$')
                sb.Append('\\').Append((char)b);
            else if (b > 0x20 && b < 0x7F)
                sb.Append((char)b);
            else
                sb.Append('\\').Append(((int)b).ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
