namespace Relay.Policy;

/// <summary>How the peer was authenticated; <see cref="None"/> for cleartext and encrypted outcomes.</summary>
public enum AuthenticationMethod
{
    None,
    DaneEe,
    DaneTa,
    Pkix,
    MtaSts,
    Fingerprint,
}

public static class AuthenticationMethodWire
{
    private static readonly (AuthenticationMethod Value, string Name)[] Names =
    [
        (AuthenticationMethod.None, "none"), (AuthenticationMethod.DaneEe, "dane-ee"), (AuthenticationMethod.DaneTa, "dane-ta"),
        (AuthenticationMethod.Pkix, "pkix"), (AuthenticationMethod.MtaSts, "mta-sts"), (AuthenticationMethod.Fingerprint, "fingerprint"),
    ];

    public static string ToWire(this AuthenticationMethod value)
    {
        foreach (var (v, name) in Names)
            if (v == value) return name;
        throw new ArgumentOutOfRangeException(nameof(value), value, null);
    }

    public static bool TryParse(string? text, out AuthenticationMethod value)
    {
        var t = text?.Trim().ToLowerInvariant();
        foreach (var (v, name) in Names)
            if (name == t) { value = v; return true; }
        value = AuthenticationMethod.None;
        return false;
    }

    public static AuthenticationMethod Parse(string? text) => TryParse(text, out var value)
        ? value
        : throw new FormatException($"unknown authentication method '{text}'; expected one of {string.Join(", ", Names.Select(n => n.Name))}");
}
