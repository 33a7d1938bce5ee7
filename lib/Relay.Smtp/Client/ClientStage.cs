namespace Relay.Smtp.Client;

/// <summary>Where a client session was when it ended, in protocol order. <see cref="Dns"/>: before any connection.</summary>
public enum ClientStage { Dns, Connect, Greeting, Ehlo, StartTls, Tls, Mail, Rcpt, Data, Dot, Quit }

public static class ClientStageWire
{
    private static readonly string[] Names = ["dns", "connect", "greeting", "ehlo", "starttls", "tls", "mail", "rcpt", "data", "dot", "quit"];

    /// <summary>The word stored in delivery_attempts.stage and shown everywhere.</summary>
    public static string ToWire(this ClientStage stage) =>
        (int)stage >= 0 && (int)stage < Names.Length ? Names[(int)stage] : throw new ArgumentOutOfRangeException(nameof(stage), stage, null);
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
public sealed class SmtpClientException(ClientStage stage, ClientFailureKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public ClientStage Stage { get; } = stage;
    public ClientFailureKind Kind { get; } = kind;
}
