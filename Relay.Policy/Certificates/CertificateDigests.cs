using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Policy.Certificates;

/// <summary>The byte strings TLSA records and pinned fingerprints are compared against.</summary>
public static class CertificateDigests
{
    public static byte[] SubjectPublicKeyInfo(X509Certificate2 certificate) => certificate.PublicKey.ExportSubjectPublicKeyInfo();

    /// <summary>Hex SHA-256 of the SubjectPublicKeyInfo: the "peer_spki_sha256" every outcome records.</summary>
    public static string SpkiSha256Hex(X509Certificate2 certificate) =>
        Convert.ToHexString(SHA256.HashData(SubjectPublicKeyInfo(certificate)));

    /// <summary>What a TLSA record with this selector and matching type would carry for the certificate;
    /// null for values we do not know.</summary>
    public static byte[]? TlsaData(X509Certificate2 certificate, byte selector, byte matchingType)
    {
        byte[]? selected = selector switch
        {
            0 => certificate.RawData,
            1 => SubjectPublicKeyInfo(certificate),
            _ => null,
        };
        if (selected is null) return null;
        return matchingType switch
        {
            0 => selected,
            1 => SHA256.HashData(selected),
            2 => SHA512.HashData(selected),
            _ => null,
        };
    }
}
