using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Inbound;

/// <summary>
/// The certificate STARTTLS presents: the configured PEM pair, else a self-signed one generated on first
/// start and kept in a directory (so its fingerprint stays stable across restarts), so TLS is always offered.
/// </summary>
public static class ServerCertificate
{
    public const string GeneratedCertificateFile = "relay-selfsigned.crt";
    public const string GeneratedKeyFile = "relay-selfsigned.key";

    public static X509Certificate2 Load(SmtpListenerOptions options)
    {
        if (!string.IsNullOrEmpty(options.CertificatePath))
        {
            if (string.IsNullOrEmpty(options.KeyPath)) throw new InvalidOperationException("Relay:Tls:Certificate is set but Relay:Tls:Key is not");
            return Usable(X509Certificate2.CreateFromPemFile(options.CertificatePath, options.KeyPath));
        }
        var directory = options.GeneratedCertificateDirectory;
        if (directory is null) return Usable(Generate(options.Hostname, out _, out _));
        var certPath = Path.Combine(directory, GeneratedCertificateFile);
        var keyPath = Path.Combine(directory, GeneratedKeyFile);
        if (File.Exists(certPath) && File.Exists(keyPath)) return Usable(X509Certificate2.CreateFromPemFile(certPath, keyPath));
        Directory.CreateDirectory(directory);
        var certificate = Generate(options.Hostname, out var certPem, out var keyPem);
        // Key first with owner-only permissions, then the certificate: a half-written pair is never loaded.
        var keyTemp = keyPath + ".tmp";
        File.WriteAllText(keyTemp, keyPem);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyTemp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(keyTemp, keyPath, overwrite: true);
        File.WriteAllText(certPath + ".tmp", certPem);
        File.Move(certPath + ".tmp", certPath, overwrite: true);
        return Usable(certificate);
    }

    public static X509Certificate2 Generate(string hostname, out string certificatePem, out string keyPem)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostname}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostname);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        certificatePem = certificate.ExportCertificatePem();
        keyPem = key.ExportPkcs8PrivateKeyPem();
        return X509Certificate2.CreateFromPem(certificatePem, keyPem);
    }

    // On Linux an ephemeral key works for SslStream; a PFX round-trip keeps it usable everywhere.
    private static X509Certificate2 Usable(X509Certificate2 certificate)
    {
        using (certificate)
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}
