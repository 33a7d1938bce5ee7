namespace Relay.Policy;

/// <summary>
/// What a destination requires (explicit policy) or what opportunism tries (DESIGN.md § Policy levels).
/// Postfix's names, so operators can carry their tables over. Not ordered by strength: `dane` is
/// opportunistic while `encrypt` is mandatory, so code asks the questions below instead of comparing.
/// </summary>
public enum PolicyLevel
{
    None,
    May,
    Encrypt,
    Dane,
    DaneOnly,
    Verify,
    Secure,
    Fingerprint,
}

public static class PolicyLevelWire
{
    private static readonly (PolicyLevel Value, string Name)[] Names =
    [
        (PolicyLevel.None, "none"), (PolicyLevel.May, "may"), (PolicyLevel.Encrypt, "encrypt"), (PolicyLevel.Dane, "dane"),
        (PolicyLevel.DaneOnly, "dane-only"), (PolicyLevel.Verify, "verify"), (PolicyLevel.Secure, "secure"),
        (PolicyLevel.Fingerprint, "fingerprint"),
    ];

    public static IReadOnlyList<string> AllNames { get; } = Names.Select(n => n.Name).ToArray();

    public static string ToWire(this PolicyLevel value)
    {
        foreach (var (v, name) in Names)
            if (v == value) return name;
        throw new ArgumentOutOfRangeException(nameof(value), value, null);
    }

    public static bool TryParse(string? text, out PolicyLevel value)
    {
        var t = text?.Trim().ToLowerInvariant();
        foreach (var (v, name) in Names)
            if (name == t) { value = v; return true; }
        value = PolicyLevel.Dane;
        return false;
    }

    /// <summary>Parses a level; the exception message names the bad value and the accepted ones.</summary>
    public static PolicyLevel Parse(string? text) => TryParse(text, out var value)
        ? value
        : throw new FormatException($"unknown policy level '{text}'; expected one of {string.Join(", ", AllNames)}");
}
