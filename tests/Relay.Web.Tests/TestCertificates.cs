using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Web.Tests;

/// <summary>Self-signed certificates made for the test run (never committed).</summary>
public static class TestCertificates
{
    /// <summary>An RSA certificate with its private key, as Relay:Web:KeyEncryptionCertificate takes it.</summary>
    public static X509Certificate2 KeyEncryption(string name)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }
}
