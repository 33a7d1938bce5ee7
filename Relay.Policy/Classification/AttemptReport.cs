using Relay.Smtp.Client;

namespace Relay.Policy.Classification;

/// <summary>One recipient's final reply in this session; <see cref="Code"/> null when the session ended before one came.
/// When Relay itself refused to send (8BITMIME, SMTPUTF8, SIZE) the reply is Relay's own, in the same form.</summary>
public sealed record RecipientReply(string Recipient, int? Code, string? EnhancedStatus = null, string? Text = null)
{
    public static RecipientReply From(string recipient, ServerReply reply) => new(recipient, reply.Code, reply.EnhancedStatus, reply.ToString());
}

/// <summary>
/// What the STARTTLS handshake did. <see cref="Authentication"/> is Policy's authenticator's finding (null when the
/// platform never asked for the certificate); the TLS parameters are as negotiated, never upgraded.
/// </summary>
/// <param name="Established">The handshake completed and the certificate was accepted.</param>
/// <param name="CertificateRejected">The authenticator refused the certificate: the handshake was aborted.</param>
/// <param name="Failure">The handshake's failure text when it did not complete.</param>
public sealed record TlsFacts(
    bool Established,
    PeerAuthentication? Authentication,
    bool CertificateRejected = false,
    string? Failure = null,
    string? Version = null,
    string? Cipher = null,
    string? PeerSpki = null,
    string? PeerSubject = null,
    string? PeerChain = null);

/// <summary>
/// What delivery observed in one SMTP session, fact by fact; <see cref="OutcomeClassifier.Classify"/> draws every
/// conclusion (transport, how, reason, result type, each recipient's fate). The session code only fills this in.
/// </summary>
/// <param name="Stage">Where the session ended (or, for a session still open, the last stage it reached).</param>
/// <param name="StartTlsRefused">The server's reply when it answered STARTTLS with anything but 220.</param>
/// <param name="Tls">Null when no handshake was attempted.</param>
/// <param name="EhloAccepted">The EHLO (or HELO) before any STARTTLS got 250: the peer's capabilities are known.</param>
/// <param name="CleartextRetry">This session is the cleartext retry an opportunistic plan allows after the TLS problem
/// that <see cref="StartTlsRefused"/> or <see cref="Tls"/> (carried over from the failed session) describes.</param>
/// <param name="MailAccepted">A MAIL FROM got a 2xx: a message transfer began, so a transport is recorded.</param>
/// <param name="Error">What ended the session before the recipients' replies: a network or protocol failure, a refused
/// greeting or EHLO, a required STARTTLS that was missing, or Relay's own refusal to send (REQUIRETLS).</param>
/// <param name="ErrorReply">The server reply behind <see cref="Error"/>, when there was one.</param>
/// <param name="Network">What the IPsec sidecar had for this peer before connecting; null when nobody asked (no peer).</param>
public sealed record AttemptReport(
    ClientStage Stage,
    bool Connected = false,
    bool EhloAccepted = false,
    bool StartTlsOffered = false,
    string? StartTlsRefused = null,
    TlsFacts? Tls = null,
    bool CleartextRetry = false,
    bool MailAccepted = false,
    IReadOnlyList<RecipientReply>? Recipients = null,
    string? Error = null,
    ServerReply? ErrorReply = null,
    NetworkFacts? Network = null)
{
    public IReadOnlyList<RecipientReply> Recipients { get; init; } = Recipients ?? [];

    /// <summary>Our address on the connection, once connected (RFC 8460 `sending-mta-ip`).</summary>
    public string? LocalAddress { get; init; }

    /// <summary>The name the peer gave in its first EHLO (or HELO) reply (RFC 8460 `receiving-mx-helo`); never trusted, only reported.</summary>
    public string? PeerHelo { get; init; }
}
