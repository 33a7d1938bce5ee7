using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Relay.Web.Auth;

/// <summary>
/// How the Data Protection key ring (data_protection_keys) is protected at rest. With Relay:Web:KeyEncryptionCertificate
/// each new key's secret is encrypted to that certificate (ASP.NET Core's ProtectKeysWithCertificate, XML encryption),
/// and every certificate in Relay:Web:KeyDecryptionCertificates still decrypts the keys made under it, so rotating the
/// certificate logs nobody out. Every web process of the database needs the same certificates (with their private keys).
/// Without one the keys are stored unencrypted, as before: said once at start-up here rather than by ASP.NET Core once
/// per new key, and marked so in the stored XML (NullXmlEncryptor writes an explicit "unencryptedKey" element).
/// </summary>
public static class KeyRingProtection
{
    public static void Configure(IDataProtectionBuilder dataProtection, WebOptions options)
    {
        if (options.KeyEncryptionCertificate is { } certificate)
        {
            dataProtection.ProtectKeysWithCertificate(certificate);
            // The current one decrypts too (the key ring is read back right after a key is made), then the retired ones.
            dataProtection.UnprotectKeysWithAnyCertificate([certificate, .. options.KeyDecryptionCertificates ?? []]);
        }
        else
        {
            if (options.KeyDecryptionCertificates is { Count: > 0 } retired)
                dataProtection.UnprotectKeysWithAnyCertificate([.. retired]);
            dataProtection.AddKeyManagementOptions(keys => keys.XmlEncryptor = new NullXmlEncryptor());
        }
    }

    /// <summary>The one start-up warning when the key ring is stored unencrypted; null when it is encrypted.</summary>
    public static string? Warning(WebOptions options) => options.KeyEncryptionCertificate is not null ? null :
        "web: the Data Protection key ring (the keys of the admin session cookies and anti-forgery tokens) is stored unencrypted " +
        "in the database table data_protection_keys; set Relay:Web:KeyEncryptionCertificate (a PEM file with an RSA certificate " +
        "and its private key, the same on every web process) to encrypt new keys";

    /// <summary>XML encryption (RFC 3275 key transport) takes RSA keys only; the private key is needed to read the ring back.</summary>
    public static string? Problem(X509Certificate2 certificate)
    {
        if (certificate.GetRSAPublicKey() is null)
            return "the certificate's key is not RSA (XML encryption of the key ring supports RSA only)";
        using var privateKey = certificate.GetRSAPrivateKey();
        return privateKey is null ? "the certificate comes without its private key (put both in the PEM file)" : null;
    }
}
