using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Relay.Web.Auth;

/// <summary>
/// PBKDF2-HMAC-SHA256 password hashes in a self-describing string:
/// <c>pbkdf2-sha256$ITERATIONS$SALT_BASE64$HASH_BASE64</c>, so the cost can rise later without breaking old hashes.
/// </summary>
public static class PasswordHasher
{
    public const string Scheme = "pbkdf2-sha256";
    public const int DefaultIterations = 600_000;   // OWASP 2023 guidance for PBKDF2-HMAC-SHA256
    private const int MinimumIterations = 10_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static string Hash(string password, int iterations = DefaultIterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinimumIterations);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Create(CultureInfo.InvariantCulture, $"{Scheme}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>True when the string is a hash this class can verify; <paramref name="problem"/> says why not.</summary>
    public static bool IsWellFormed(string? encoded, out string problem)
    {
        problem = "";
        if (string.IsNullOrWhiteSpace(encoded)) { problem = "the hash is empty"; return false; }
        if (!TryParse(encoded, out _, out _, out _))
        {
            problem = $"the hash is not of the form {Scheme}$ITERATIONS$SALT$HASH (made by `relay web hash-password`)";
            return false;
        }
        return true;
    }

    /// <summary>Constant-time comparison; a malformed hash never verifies.</summary>
    public static bool Verify(string password, string encoded)
    {
        if (password is null || !TryParse(encoded, out var iterations, out var salt, out var expected))
            return false;
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static bool TryParse(string? encoded, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0; salt = []; hash = [];
        var parts = (encoded ?? "").Trim().Split('$');
        if (parts.Length != 4 || parts[0] != Scheme)
            return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations < MinimumIterations)
            return false;
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            hash = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException) { return false; }
        return salt.Length >= 8 && hash.Length >= 16;
    }
}
