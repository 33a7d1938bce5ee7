using System.Net;
using System.Net.Sockets;

namespace Relay.Smtp.Server;

/// <summary>
/// RFC 5321 §4.1.2 paths with no I/O: <c>&lt;[@route,…:]local@domain&gt;</c>. The source route is
/// parsed for syntax and then dropped (§C: servers SHOULD strip it and use the final mailbox), so a
/// route can never choose the next hop. Non-ASCII is allowed only when <c>utf8</c> is set (RFC 6531).
/// </summary>
public static class PathParser
{
    public enum PathError { None, Syntax, NonAscii }

    /// <summary>Parses a path at the start of <paramref name="text"/>; <paramref name="rest"/> is what follows the closing '&gt;'.</summary>
    public static PathError TryParse(string text, bool allowNull, bool allowPostmaster, bool utf8, out Mailbox? mailbox, out string rest)
    {
        mailbox = null;
        rest = "";
        if (text.Length == 0 || text[0] != '<') return PathError.Syntax;
        var close = FindClose(text);
        if (close < 0) return PathError.Syntax;
        rest = text[(close + 1)..];
        var inner = text[1..close];
        if (inner.Length == 0) return allowNull ? PathError.None : PathError.Syntax;
        if (!utf8 && inner.Any(c => c >= 0x80)) return PathError.NonAscii;

        var routed = false;
        if (inner[0] == '@')
        {
            var colon = inner.IndexOf(':');
            if (colon < 0) return PathError.Syntax;
            foreach (var hop in inner[..colon].Split(','))
                if (hop.Length < 2 || hop[0] != '@' || !IsDomain(hop[1..], utf8)) return PathError.Syntax;
            inner = inner[(colon + 1)..];
            routed = true;
        }

        if (allowPostmaster && !routed && inner.Equals("postmaster", StringComparison.OrdinalIgnoreCase))
        {
            mailbox = new Mailbox(inner, null, false, false, false);
            return PathError.None;
        }

        var at = LocalPartEnd(inner, utf8);
        if (at < 0 || at >= inner.Length || inner[at] != '@') return PathError.Syntax;
        var local = inner[..at];
        var domain = inner[(at + 1)..];
        if (local.Length > 64 * 4 || domain.Length > 255) return PathError.Syntax;
        bool literal;
        if (domain.StartsWith('[')) { if (!IsAddressLiteral(domain)) return PathError.Syntax; literal = true; }
        else { if (!IsDomain(domain, utf8)) return PathError.Syntax; literal = false; }
        mailbox = new Mailbox(local, domain, local[0] == '"', literal, routed);
        return PathError.None;
    }

    // The '>' that closes the path, skipping any inside a quoted local part.
    private static int FindClose(string text)
    {
        var quoted = false;
        for (var i = 1; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted && c == '\\') { i++; continue; }
            if (c == '"') quoted = !quoted;
            else if (c == '>' && !quoted) return i;
        }
        return -1;
    }

    // Index of the '@' after a valid Dot-string or Quoted-string local part, or -1.
    private static int LocalPartEnd(string s, bool utf8)
    {
        if (s.Length == 0) return -1;
        if (s[0] == '"')
        {
            for (var i = 1; i < s.Length; i++)
            {
                var c = s[i];
                if (c == '\\')
                {
                    if (i + 1 >= s.Length || s[i + 1] < 32 || s[i + 1] > 126) return -1;
                    i++;
                }
                else if (c == '"') return i + 1 < s.Length ? i + 1 : -1;
                else if (!(c is >= (char)32 and <= (char)126 || (utf8 && c >= 0x80))) return -1;
            }
            return -1;
        }
        var previousDot = true;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '@') return previousDot ? -1 : i;
            if (c == '.') { if (previousDot) return -1; previousDot = true; continue; }
            if (!IsAtext(c, utf8)) return -1;
            previousDot = false;
        }
        return -1;
    }

    public static bool IsAtext(char c, bool utf8) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~".Contains(c) || (utf8 && c >= 0x80);

    /// <summary>RFC 5321 Domain: sub-domains of letters, digits and inner hyphens, no empty label, no trailing dot.</summary>
    public static bool IsDomain(string domain, bool utf8)
    {
        if (domain.Length == 0 || domain.Length > 255) return false;
        foreach (var label in domain.Split('.'))
        {
            if (label.Length == 0 || label.Length > 63) return false;
            if (label[0] == '-' || label[^1] == '-') return false;
            foreach (var c in label)
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || (utf8 && c >= 0x80 && !char.IsWhiteSpace(c) && !char.IsControl(c))))
                    return false;
        }
        return true;
    }

    /// <summary><c>[1.2.3.4]</c>, <c>[IPv6:…]</c>, or a General-address-literal <c>[tag:text]</c>.</summary>
    public static bool IsAddressLiteral(string literal)
    {
        if (literal.Length < 3 || literal[0] != '[' || literal[^1] != ']') return false;
        var inner = literal[1..^1];
        if (inner.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
            return IPAddress.TryParse(inner[5..], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6;
        if (inner.Contains(':'))
        {
            var colon = inner.IndexOf(':');
            return colon > 0 && inner[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
                && inner[(colon + 1)..].All(c => c is >= (char)33 and <= (char)90 or >= (char)94 and <= (char)126) && colon + 1 < inner.Length;
        }
        var parts = inner.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255);
    }
}
