using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Inbound;

/// <summary>The server side of TLS for every listener: one certificate, TLS 1.2 and 1.3 only.</summary>
public sealed class TlsContext(X509Certificate2 certificate, bool askClientCertificate) : IDisposable
{
    public X509Certificate2 Certificate { get; } = certificate;

    public SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificate = Certificate,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        // Asked, never required: a client certificate is only recorded (its SPKI), it authenticates nothing here.
        ClientCertificateRequired = askClientCertificate,
        RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };

    public static string ProtocolWord(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => protocol.ToString(),
    };

    /// <summary>SHA-256 over the SubjectPublicKeyInfo, lower-case hex (DESIGN.md: the SPKI fingerprint).</summary>
    public static string SpkiSha256(X509Certificate certificate)
    {
        using var x509 = new X509Certificate2(certificate);
        return Convert.ToHexStringLower(SHA256.HashData(x509.PublicKey.ExportSubjectPublicKeyInfo()));
    }

    public void Dispose() => Certificate.Dispose();
}
