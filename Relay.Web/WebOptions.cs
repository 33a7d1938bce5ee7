using System.Security.Cryptography.X509Certificates;

namespace Relay.Web;

/// <summary>
/// What the web role needs (configuration keys <c>Relay:Web:*</c>, DESIGN.md § Contracts). An empty
/// <see cref="Listen"/> means 127.0.0.1:8080: loopback unless the operator says otherwise. With a
/// <see cref="Certificate"/> every endpoint serves HTTPS and the cookies are marked Secure. <see cref="Loggers"/>: the
/// process's logger factory (its format, its filters), instead of ASP.NET Core's default console.
/// <see cref="AllowedHosts"/> are the host names the site answers to besides IP literals and localhost (Relay:Web:AllowedHosts).
/// <see cref="AccountDelay"/> is the first wait of the per-account login budget (<see cref="Auth.LoginThrottle"/>, shared through PostgreSQL).
/// <see cref="KeyEncryptionCertificate"/> (RSA, with its private key) encrypts the Data Protection key ring at rest;
/// <see cref="KeyDecryptionCertificates"/> are retired ones that still decrypt the keys made under them (a rotation
/// logs nobody out). Without it the ring is stored unencrypted, and the web role says so once at start-up.
/// </summary>
public sealed record WebOptions(
    IReadOnlyList<string> Listen,
    string AdminUser,
    string? AdminPasswordHash,
    X509Certificate2? Certificate = null,
    int LockoutThreshold = 5,
    TimeSpan? LockoutDuration = null,
    TimeSpan? SessionLifetime = null,
    TimeProvider? Clock = null,
    Microsoft.Extensions.Logging.ILoggerFactory? Loggers = null,
    IReadOnlyList<string>? AllowedHosts = null,
    TimeSpan? AccountDelay = null,
    X509Certificate2? KeyEncryptionCertificate = null,
    IReadOnlyList<X509Certificate2>? KeyDecryptionCertificates = null)
{
    public static readonly IReadOnlyList<string> DefaultListen = ["127.0.0.1:8080"];
}

/// <summary>The web role cannot start with this configuration; the message says why and what to do.</summary>
public sealed class WebConfigurationException(string message) : Exception(message);
