using System.Globalization;
using System.Net;

namespace Relay.Server.Configuration;

/// <summary>Parsers for configuration values; each failure names the key and the value.</summary>
public static class ConfigParsers
{
    /// <summary>"1.2.3.4:25", "[::1]:25", or "host:25" when <paramref name="allowHost"/>.</summary>
    public static (string Host, int Port) HostPort(string key, string value, bool allowHost = false)
    {
        string host, port;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']');
            if (close < 0 || close + 1 >= value.Length || value[close + 1] != ':')
                throw new ConfigException(key, value, "expected [address]:port");
            host = value[1..close];
            port = value[(close + 2)..];
            if (!IPAddress.TryParse(host, out _))
                throw new ConfigException(key, value, $"'{host}' is not an IP address");
        }
        else
        {
            var colon = value.LastIndexOf(':');
            if (colon <= 0 || value.IndexOf(':') != colon)
                throw new ConfigException(key, value, "expected address:port (IPv6 as [address]:port)");
            host = value[..colon];
            port = value[(colon + 1)..];
            if (!IPAddress.TryParse(host, out _) && !(allowHost && IsDomainName(host)))
                throw new ConfigException(key, value, allowHost ? $"'{host}' is neither an IP address nor a host name" : $"'{host}' is not an IP address");
        }
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 0 or > 65535)
            throw new ConfigException(key, value, $"'{port}' is not a port number (0-65535)");
        return (host, number);
    }

    public static IPEndPoint EndPoint(string key, string value)
    {
        var (host, port) = HostPort(key, value);
        return new IPEndPoint(IPAddress.Parse(host), port);
    }

    public static IPNetwork Cidr(string key, string value)
    {
        var text = value.Contains('/') ? value : value + (value.Contains(':') ? "/128" : "/32");
        var slash = text.IndexOf('/');
        if (!IPAddress.TryParse(text[..slash], out var address)
            || !int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || length > (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            throw new ConfigException(key, value, "not a CIDR network (e.g. 10.0.0.0/8 or 2001:db8::/32) with no host bits set");
        // IPNetwork would quietly mask 10.0.0.1/8 to 10.0.0.0/8; a host address with a prefix is more likely a typo.
        var network = new IPNetwork(Masked(address, length), length);
        if (!network.BaseAddress.Equals(address))
            throw new ConfigException(key, value, $"host bits set; did you mean {network}?");
        return network;
    }

    private static IPAddress Masked(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(length - 8 * i, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }

    public static string Domain(string key, string value)
    {
        var trimmed = value.TrimEnd('.');
        if (!IsDomainName(trimmed))
            throw new ConfigException(key, value, "not a domain name (letters, digits and hyphens in dot-separated labels)");
        return trimmed.ToLowerInvariant();
    }

    /// <summary>LDH host/domain syntax (RFC 1123), at least two labels unless a single label is allowed.</summary>
    public static bool IsDomainName(string value, bool allowSingleLabel = true)
    {
        if (value.Length is 0 or > 253) return false;
        var labels = value.Split('.');
        if (!allowSingleLabel && labels.Length < 2) return false;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-') return false;
            foreach (var c in label)
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_')) return false;
        }
        return true;
    }

    public static int Integer(string key, string? value, int fallback, int min, int max)
    {
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) || number < min || number > max)
            throw new ConfigException(key, value, $"expected a whole number from {min} to {max}");
        return number;
    }

    /// <summary>
    /// A duration with its unit: "300s", "5m", "2h", "5d", "1w", "250ms" (Postfix style) or "hh:mm:ss" / "d.hh:mm:ss".
    /// A bare number is refused (TimeSpan would read "300" as 300 days), and so is anything outside
    /// [<paramref name="min"/>, <paramref name="max"/>], before a TimeSpan is made, so nothing overflows.
    /// </summary>
    public static TimeSpan Duration(string key, string value, TimeSpan min, TimeSpan max)
    {
        var text = value.Trim();
        var span = text.Contains(':') ? ClockDuration(key, value, text) : UnitDuration(key, value, text);
        if (span < min || span > max)
            throw new ConfigException(key, value, $"out of range: expected {FormatDuration(min)} to {FormatDuration(max)}");
        return span;
    }

    private static readonly (string Unit, double Seconds)[] Units =
        [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800)];

    private static TimeSpan UnitDuration(string key, string value, string text)
    {
        var digits = 0;
        while (digits < text.Length && (char.IsAsciiDigit(text[digits]) || text[digits] == '.')) digits++;
        if (digits == 0)
            throw new ConfigException(key, value, "expected a duration with a unit: 300s, 5m, 2h, 5d or hh:mm:ss");
        var unit = text[digits..];
        if (unit.Length == 0)
            throw new ConfigException(key, value, $"a duration needs a unit: {text}s, {text}m, {text}h or {text}d (or hh:mm:ss)");
        if (!unit.All(char.IsAsciiLetter))
            throw new ConfigException(key, value, "expected a plain number and a unit: 300s, 5m, 2h, 5d (or hh:mm:ss)");
        var factor = Units.FirstOrDefault(u => u.Unit == unit).Seconds;
        if (factor == 0)
            throw new ConfigException(key, value, $"unknown unit '{unit}'; use ms, s, m, h, d or w");
        if (!decimal.TryParse(text[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            throw new ConfigException(key, value, "expected a duration with a unit: 300s, 5m, 2h, 5d or hh:mm:ss");
        var seconds = (double)amount * factor;
        // Capped here so TimeSpan never overflows; the caller's range then names the real bound.
        return seconds > TimeSpan.FromDays(100_000).TotalSeconds ? TimeSpan.FromDays(100_000) : TimeSpan.FromSeconds(seconds);
    }

    private static TimeSpan ClockDuration(string key, string value, string text)
    {
        if (text.StartsWith('-') || !TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
            throw new ConfigException(key, value, "expected hh:mm:ss (or a duration with a unit: 300s, 5m, 2h, 5d)");
        return span;
    }

    /// <summary>The shortest unit form ("300ms", "30s", "5m", "67m", "5d"), as README and messages show durations.</summary>
    public static string FormatDuration(TimeSpan span)
    {
        foreach (var (unit, seconds) in Units.Reverse())
        {
            var amount = span.TotalSeconds / seconds;
            if (amount >= 1 && Math.Abs(amount - Math.Round(amount)) < 1e-9) return $"{Math.Round(amount).ToString(CultureInfo.InvariantCulture)}{unit}";
        }
        return span == TimeSpan.Zero ? "0s" : $"{span.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms";
    }

    public static bool Boolean(string key, string? value, bool fallback)
    {
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        return bool.TryParse(value, out var b) ? b : throw new ConfigException(key, value, "expected true or false");
    }
}
