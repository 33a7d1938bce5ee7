using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Relay.Server.Configuration;
using Relay.Web.Auth;

namespace Relay.Server.Roles;

/// <summary>
/// Relay:Web:KeyEncryptionCertificate and Relay:Web:KeyDecryptionCertificates: PEM files that each hold an RSA
/// certificate and its private key, which encrypt (the first) and still decrypt (all) the Data Protection key ring.
/// Bad file, not RSA or no private key: a ConfigException naming the key and the path (exit 2).
/// </summary>
internal static class KeyRingCertificates
{
    public static X509Certificate2? Encryption(RelayConfig config) =>
        config.Raw.GetSection("Web")["KeyEncryptionCertificate"] is { Length: > 0 } path ? Load("Relay:Web:KeyEncryptionCertificate", path) : null;

    public static IReadOnlyList<X509Certificate2> Decryption(RelayConfig config) =>
        config.Raw.GetSection("Web:KeyDecryptionCertificates").GetChildren().Select(c => c.Value).OfType<string>().Where(v => v.Length > 0)
            .Select(path => Load("Relay:Web:KeyDecryptionCertificates", path)).ToList();

    private static X509Certificate2 Load(string key, string path)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ConfigException(key, path, $"cannot load the certificate and its private key from one PEM file: {e.Message}");
        }
        if (KeyRingProtection.Problem(certificate) is { } problem)
        {
            certificate.Dispose();
            throw new ConfigException(key, path, problem);
        }
        return certificate;
    }
}
