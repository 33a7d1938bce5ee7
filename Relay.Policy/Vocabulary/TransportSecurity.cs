namespace Relay.Policy;

/// <summary>
/// What one attempt's transport really achieved (DESIGN.md § Security vocabulary). The numeric order IS
/// the strength order, weakest first, so policies compare with &lt; and &gt;; it is defined here only.
/// </summary>
public enum TransportSecurity
{
    /// <summary>No TLS. Always recorded with a reason.</summary>
    Cleartext = 0,
    /// <summary>TLS, peer not authenticated.</summary>
    Encrypted = 1,
    /// <summary>TLS, peer authenticated, but the choice of peer was not downgrade-resistant.</summary>
    Trusted = 2,
    /// <summary>TLS, peer authenticated through a downgrade-resistant channel.</summary>
    Verified = 3,
}

public static class TransportSecurityWire
{
    private static readonly string[] Names = ["cleartext", "encrypted", "trusted", "verified"];

    /// <summary>The word stored in the database and shown everywhere.</summary>
    public static string ToWire(this TransportSecurity value) =>
        (int)value >= 0 && (int)value < Names.Length ? Names[(int)value] : throw new ArgumentOutOfRangeException(nameof(value), value, null);

    public static bool TryParse(string? text, out TransportSecurity value)
    {
        var index = Array.IndexOf(Names, text?.Trim().ToLowerInvariant());
        value = (TransportSecurity)Math.Max(index, 0);
        return index >= 0;
    }

    public static TransportSecurity Parse(string? text) => TryParse(text, out var value)
        ? value
        : throw new FormatException($"unknown transport security '{text}'; expected one of {string.Join(", ", Names)}");
}
