using Relay.Policy.Certificates;

namespace Relay.Policy.Planning;

/// <summary>
/// One row of the policy table: "example.com" (that domain), ".example.com" (its subdomains) or a route
/// as written in configuration ("[10.0.0.5]:25"). Relay.Db stores it as strings; <see cref="Create"/> is
/// the one place those strings are checked.
/// </summary>
public sealed record DestinationPolicy
{
    private DestinationPolicy(string destination, PolicyLevel level, IReadOnlyList<string> fingerprints, IReadOnlyList<string> matchNames, string? note)
    {
        Destination = destination;
        Level = level;
        Fingerprints = fingerprints;
        MatchNames = matchNames;
        Note = note;
    }

    public string Destination { get; }
    public PolicyLevel Level { get; }

    /// <summary>SHA-256 SPKI or certificate digests (upper-case hex) for `fingerprint`.</summary>
    public IReadOnlyList<string> Fingerprints { get; }

    /// <summary>Extra names accepted for `verify` and `secure` (".domain" for subdomains).</summary>
    public IReadOnlyList<string> MatchNames { get; }

    public string? Note { get; }

    /// <summary>Validates and normalises; the exception names the bad value.</summary>
    public static DestinationPolicy Create(string destination, PolicyLevel level, IEnumerable<string>? fingerprints = null,
        IEnumerable<string>? matchNames = null, string? note = null)
    {
        var key = NormalizeDestination(destination);
        var pins = new List<string>();
        foreach (var f in fingerprints ?? [])
            pins.Add(FingerprintMatcher.TryNormalize(f, out var hex) ? hex! : throw new FormatException($"fingerprint '{f}' is not a SHA-256 digest (64 hex digits, colons allowed)"));
        if (level == PolicyLevel.Fingerprint && pins.Count == 0)
            throw new FormatException($"policy 'fingerprint' for '{destination}' needs at least one fingerprint");
        var names = new List<string>();
        foreach (var n in matchNames ?? [])
        {
            var normalized = n.Trim().TrimEnd('.').ToLowerInvariant();
            if (normalized.Length == 0 || normalized.Contains(' ')) throw new FormatException($"match name '{n}' is not a domain name");
            names.Add(normalized);
        }
        return new DestinationPolicy(key, level, pins, names, note);
    }

    /// <summary>From the database's strings (level as its wire name).</summary>
    public static DestinationPolicy FromWire(string destination, string level, IEnumerable<string>? fingerprints = null,
        IEnumerable<string>? matchNames = null, string? note = null) =>
        Create(destination, PolicyLevelWire.Parse(level), fingerprints, matchNames, note);

    /// <summary>
    /// The key a destination's policy is stored and looked up under, shared by `relay policy` and the web UI:
    /// "example.com", ".example.com" (its subdomains), or a route's next hop as Relay:Routes writes it,
    /// "[address]:port" (port 25 when left out) or "host:port". Lower-case, no trailing dot. Anything else — an
    /// unclosed bracket, a bracketed non-address, a port outside 1-65535, a bare address (write it as a route,
    /// [127.0.0.1]:25), an all-numeric top-level label — is refused, naming the value.
    /// </summary>
    public static string NormalizeDestination(string destination)
    {
        var d = destination.Trim().ToLowerInvariant();
        if (d.StartsWith('[')) return BracketedRoute(destination, d);
        d = d.TrimEnd('.');
        var colon = d.IndexOf(':');
        if (colon >= 0 && System.Net.IPAddress.TryParse(d, out _))
            throw new FormatException($"destination '{destination}' is an address; write a route as [address]:port");
        if (colon >= 0)
        {
            var host = d[..colon];
            var port = Port(destination, d[(colon + 1)..]);
            if (!IsHostName(host))
                throw new FormatException($"destination '{destination}': '{host}' is not a host name");
            return $"{host}:{port}";
        }
        if (System.Net.IPAddress.TryParse(d, out var bare) && d.Contains('.'))
            throw new FormatException($"destination '{destination}' is an address; write a route as [{bare}]:25");
        var body = d.StartsWith('.') ? d[1..] : d;
        if (!IsHostName(body))
            throw new FormatException($"destination '{destination}' is not a domain, .domain or route ([address]:port, host:port)");
        return d;
    }

    private static string BracketedRoute(string original, string d)
    {
        var close = d.IndexOf(']');
        if (close < 0)
            throw new FormatException($"destination '{original}': missing ']'; a route is [address]:port");
        if (!System.Net.IPAddress.TryParse(d[1..close], out var address) || d[1..close].Length == 0)
            throw new FormatException($"destination '{original}': '{d[1..close]}' is not an IP address");
        var rest = d[(close + 1)..];
        if (rest.Length > 0 && rest[0] != ':')
            throw new FormatException($"destination '{original}': expected ':port' after ']'");
        var port = rest.Length == 0 ? 25 : Port(original, rest[1..]);
        return $"[{address}]:{port}";
    }

    private static int Port(string original, string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
            ? port : throw new FormatException($"destination '{original}': '{text}' is not a port (1-65535)");

    /// <summary>LDH labels (RFC 1123; IDNs as A-labels), at most 253 octets, and a top-level label that is not all digits.</summary>
    private static bool IsHostName(string name)
    {
        if (name.Length is 0 or > 253) return false;
        var labels = name.Split('.');
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-') return false;
            foreach (var c in label)
                if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-' || c == '_')) return false;
        }
        return !labels[^1].All(char.IsAsciiDigit);
    }
}
