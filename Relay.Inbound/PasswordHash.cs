using System.Security.Cryptography;
using System.Text;

namespace Relay.Inbound;

/// <summary>
/// Submission credentials as stored in configuration: <c>pbkdf2-sha256$ITERATIONS$SALT_B64$HASH_B64</c>
/// (PBKDF2-HMAC-SHA256 via <see cref="Rfc2898DeriveBytes"/>, 32-byte hash). Verification is constant-time.
/// </summary>
public static class PasswordHash
{
    private const string Scheme = "pbkdf2-sha256";
    public const int DefaultIterations = 210_000;

    public static string Create(string password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"{Scheme}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    /// <summary>False for a wrong password and for a malformed stored hash alike (the caller logs neither password nor hash).</summary>
    public static bool Verify(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme) return false;
        if (!int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var iterations) || iterations is < 1 or > 10_000_000) return false;
        byte[] salt, expected;
        try { salt = Convert.FromBase64String(parts[2]); expected = Convert.FromBase64String(parts[3]); }
        catch (FormatException) { return false; }
        if (expected.Length == 0) return false;
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
