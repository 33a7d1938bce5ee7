using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Relay.Db;

/// <summary>
/// The one password hash of Relay, for the admin login (Relay:Web:AdminPasswordHash) and for submission
/// users (Relay:Smtp:Credentials:USER) alike: PBKDF2-HMAC-SHA256 in a self-describing string,
/// <c>pbkdf2-sha256$ITERATIONS$SALT_BASE64$HASH_BASE64</c>, so the cost can rise later without breaking old
/// hashes. One class means a hash from <c>relay web hash-password</c> is accepted, or refused, the same way
/// by both. It lives in Relay.Db, though it touches no database, because Db is the one project both
/// Relay.Inbound (→ Smtp, Db) and Relay.Web (→ Db, Policy) already reference.
/// </summary>
public static class PasswordHasher
{
    public const string Scheme = "pbkdf2-sha256";
    public const int DefaultIterations = 600_000;   // OWASP 2023 guidance for PBKDF2-HMAC-SHA256

    // The floor refuses a hash no tool of ours makes (a hand-written "$1$" is a typo, not a choice) while
    // letting tests hash in milliseconds; it was already the admin login's floor, so no admin hash that
    // worked before is refused now. The ceiling keeps one AUTH or login attempt from costing minutes of CPU.
    public const int MinimumIterations = 10_000;
    public const int MaximumIterations = 10_000_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static string Hash(string password, int iterations = DefaultIterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinimumIterations);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaximumIterations);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Create(CultureInfo.InvariantCulture, $"{Scheme}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>True when the string is a hash <see cref="Verify"/> can check; <paramref name="problem"/> says why not
    /// (for start-up errors: it never repeats the hash).</summary>
    public static bool IsWellFormed(string? encoded, out string problem) => TryParse(encoded, out _, out _, out _, out problem);

    /// <summary>Constant-time comparison; a malformed hash never verifies.</summary>
    public static bool Verify(string password, string encoded)
    {
        if (!TryParse(encoded, out var iterations, out var salt, out var expected, out _))
            return false;
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static bool TryParse(string? encoded, out int iterations, out byte[] salt, out byte[] hash, out string problem)
    {
        iterations = 0; salt = []; hash = []; problem = "";
        if (string.IsNullOrWhiteSpace(encoded)) { problem = "the hash is empty"; return false; }
        // Trimmed: a hash pasted from `relay web hash-password` output may carry its newline.
        var parts = encoded.Trim().Split('$');
        if (parts.Length != 4 || parts[0] != Scheme)
            problem = $"the hash is not of the form {Scheme}$ITERATIONS$SALT$HASH (made by `relay web hash-password`)";
        else if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations)
                 || iterations is < MinimumIterations or > MaximumIterations)
            problem = $"the iteration count must be a whole number from {MinimumIterations} to {MaximumIterations}";
        else if (!TryBase64(parts[2], out salt) || !TryBase64(parts[3], out hash))
            problem = "the salt or the hash is not base64";
        else if (salt.Length < 8 || hash.Length < 16)
            problem = "the salt (8 bytes at least) or the hash (16 bytes at least) is too short";
        return problem.Length == 0;
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        try { bytes = Convert.FromBase64String(text); return true; }
        catch (FormatException) { bytes = []; return false; }
    }
}
