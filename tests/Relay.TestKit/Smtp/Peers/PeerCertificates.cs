using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.TestKit.Smtp.Peers;

/// <summary>Certificates made inside the test, for test SMTP peers.</summary>
public static class PeerCertificates
{
    /// <summary>A self-signed server certificate (ECDSA P-256) for <paramref name="name"/>, valid now.</summary>
    public static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>SHA-256 of the SubjectPublicKeyInfo, lower-case hex (what delivery records as the SPKI fingerprint).</summary>
    public static string SpkiSha256(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
}
