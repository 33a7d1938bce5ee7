using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Relay.Smtp.Client;

/// <summary>What the peer presented during the handshake, for the judge (Relay.Policy's verifier, or a soft-fail judge).</summary>
public sealed record TlsPeerEvidence(
    X509Certificate2? Leaf,
    IReadOnlyList<X509Certificate2> Presented,
    SslPolicyErrors PkixErrors,
    string PkixSummary)
{
    /// <summary>True when the PKIX chain built to a trusted root and the name matched the SNI name.</summary>
    public bool PkixValid => Leaf is not null && PkixErrors == SslPolicyErrors.None;
}

/// <summary>The judge's answer; <see cref="Reason"/> is for the operator when it refuses.</summary>
public sealed record TlsJudgement(bool Accept, string? Reason = null)
{
    public static TlsJudgement Accepted { get; } = new(true);
}

/// <summary>
/// How to run STARTTLS. <see cref="Authenticated"/> selects RFC 7435 §3 parameters: false (opportunistic)
/// accepts every protocol version the platform allows because legacy encryption beats cleartext; true
/// demands TLS 1.2 or later.
/// </summary>
public sealed record TlsClientSettings(string? ServerName, bool Authenticated, Func<TlsPeerEvidence, TlsJudgement> Judge);

/// <summary>What the TLS session really was: recorded on every attempt, never upgraded.</summary>
public sealed record TlsSessionInfo(
    string Version,
    string Cipher,
    string? SpkiSha256,
    string? Subject,
    string? ChainSummary,
    TlsPeerEvidence? Evidence)
{
    public static string SpkiFingerprint(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    internal static string VersionName(System.Security.Authentication.SslProtocols protocol) => protocol switch
    {
        System.Security.Authentication.SslProtocols.Tls13 => "TLSv1.3",
        System.Security.Authentication.SslProtocols.Tls12 => "TLSv1.2",
#pragma warning disable SYSLIB0039 // naming legacy versions is how we record that a peer used them
        System.Security.Authentication.SslProtocols.Tls11 => "TLSv1.1",
        System.Security.Authentication.SslProtocols.Tls => "TLSv1",
#pragma warning restore SYSLIB0039
        _ => protocol.ToString(),
    };
}

/// <summary>Deadlines per step (RFC 5321 §4.5.3.2 suggests minutes; tests use seconds).</summary>
public sealed record SmtpClientTimeouts
{
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan Greeting { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan Command { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan TlsHandshake { get; init; } = TimeSpan.FromMinutes(1);
    public TimeSpan DataBlock { get; init; } = TimeSpan.FromMinutes(3);
    public TimeSpan Dot { get; init; } = TimeSpan.FromMinutes(10);
}
