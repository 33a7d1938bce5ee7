using System.Net;

namespace Relay.Policy.History;

/// <summary>
/// What an operator may name a peer by (`relay peers forget PEER`, the web action): an MX host name (LDH labels, an
/// optional final dot, any case) or an IP address. Parses without I/O and answers every input: the normalized text
/// (lower case, no final dot; an address in its canonical form) or why it is not a peer name.
/// </summary>
public static class PeerName
{
    public static (string? Value, string? Error) Parse(string? text)
    {
        var trimmed = (text ?? "").Trim();
        if (trimmed.Length == 0) return (null, "PEER is empty: give an MX host name or an IP address");
        if (trimmed.Length > 254 || trimmed.Any(char.IsControl))
            return (null, $"PEER '{Printable(trimmed)}' is not a host name or IP address");
        var unbracketed = trimmed.StartsWith('[') && trimmed.EndsWith(']') ? trimmed[1..^1] : trimmed;
        if (IPAddress.TryParse(unbracketed, out var address) && (unbracketed.Contains(':') || unbracketed.Count(c => c == '.') == 3))
            return (address.ToString(), null);
        var name = trimmed.TrimEnd('.').ToLowerInvariant();
        return IsHostName(name) ? (name, null) : (null, $"PEER '{Printable(trimmed)}' is not a host name or IP address");
    }

    private static bool IsHostName(string name)
    {
        if (name.Length is 0 or > 253) return false;
        var labels = name.Split('.');
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-') return false;
            if (!label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_')) return false;
        }
        return !labels[^1].All(char.IsAsciiDigit);
    }

    private static string Printable(string text) => new(text.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
