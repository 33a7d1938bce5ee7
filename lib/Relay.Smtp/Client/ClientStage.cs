namespace Relay.Smtp.Client;

/// <summary>Where a client session was when it ended: the words stored in delivery_attempts.stage.</summary>
public static class ClientStage
{
    public const string Dns = "dns";
    public const string Connect = "connect";
    public const string Greeting = "greeting";
    public const string Ehlo = "ehlo";
    public const string StartTls = "starttls";
    public const string Tls = "tls";
    public const string Mail = "mail";
    public const string Rcpt = "rcpt";
    public const string Data = "data";
    public const string Dot = "dot";
    public const string Quit = "quit";
}

public enum ClientFailureKind
{
    /// <summary>Connection refused, reset or dropped by the peer.</summary>
    Network,
    /// <summary>A step's deadline passed.</summary>
    Timeout,
    /// <summary>The peer broke the protocol: malformed reply, response injection, …</summary>
    Protocol,
    /// <summary>The TLS handshake failed (before or apart from certificate judgement).</summary>
    TlsHandshake,
    /// <summary>The handshake completed at the TLS layer but the certificate judge said no.</summary>
    CertificateRejected,
}

/// <summary>A session that cannot go on. <see cref="Stage"/> says where; <see cref="Exception.Message"/> is for the operator.</summary>
public sealed class SmtpClientException(string stage, ClientFailureKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Stage { get; } = stage;
    public ClientFailureKind Kind { get; } = kind;
}
