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

    /// <summary>Lower-case, no trailing dot; a leading dot (subdomains) and a bracketed route are kept.</summary>
    public static string NormalizeDestination(string destination)
    {
        var d = destination.Trim().ToLowerInvariant();
        if (d.StartsWith('[')) return d;
        d = d.TrimEnd('.');
        var body = d.StartsWith('.') ? d[1..] : d;
        if (body.Length == 0 || !Relay.Dns.DnsName.TryNormalize(body, out _) || body.Contains(' ') || body.StartsWith('.'))
            throw new FormatException($"destination '{destination}' is not a domain, .domain or [route]");
        return d;
    }
}
