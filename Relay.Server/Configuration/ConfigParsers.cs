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
        if (!IPNetwork.TryParse(text, out var network))
            throw new ConfigException(key, value, "not a CIDR network (e.g. 10.0.0.0/8 or 2001:db8::/32) with no host bits set");
        return network;
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

    public static TimeSpan Duration(string key, string? value, TimeSpan fallback)
    {
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        // "300s", "5m", "67m", "5d", "1h" (Postfix style) or a .NET TimeSpan ("00:05:00").
        var unit = value[^1];
        if (char.IsAsciiLetter(unit) && double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
        {
            return unit switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                'w' => TimeSpan.FromDays(7 * amount),
                _ => throw new ConfigException(key, value, "unknown unit; use s, m, h, d or w"),
            };
        }
        if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
            return span;
        throw new ConfigException(key, value, "expected a duration such as 30s, 5m, 1h, 5d");
    }

    public static bool Boolean(string key, string? value, bool fallback)
    {
        if (string.IsNullOrWhiteSpace(value)) return fallback;
        return bool.TryParse(value, out var b) ? b : throw new ConfigException(key, value, "expected true or false");
    }
}
