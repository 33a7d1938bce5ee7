using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Policy.Certificates;

/// <summary>
/// The `fingerprint` level: the leaf's SHA-256 digest of either its SubjectPublicKeyInfo or the whole
/// certificate must equal a pinned value. Pins are hex, colons and case ignored ("AB:CD:…" as Postfix
/// and openssl print them).
/// </summary>
public static class FingerprintMatcher
{
    public static bool TryNormalize(string text, out string? hex)
    {
        hex = null;
        var compact = text.Replace(":", "", StringComparison.Ordinal).Trim();
        if (compact.Length != 64 || !compact.All(char.IsAsciiHexDigit)) return false;
        hex = compact.ToUpperInvariant();
        return true;
    }

    /// <summary>Null when nothing matched; otherwise which pin matched and whether it was "spki" or "cert".</summary>
    public static (string Pin, string Kind)? Match(X509Certificate2 leaf, IEnumerable<string> pins)
    {
        var spki = Convert.ToHexString(SHA256.HashData(CertificateDigests.SubjectPublicKeyInfo(leaf)));
        var cert = Convert.ToHexString(SHA256.HashData(leaf.RawData));
        foreach (var pin in pins)
        {
            if (!TryNormalize(pin, out var hex)) continue;
            if (hex == spki) return (pin, "spki");
            if (hex == cert) return (pin, "cert");
        }
        return null;
    }
}
