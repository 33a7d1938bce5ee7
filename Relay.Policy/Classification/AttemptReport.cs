namespace Relay.Policy.Classification;

/// <summary>One recipient's final reply in this session; null code when the session ended before one came.</summary>
public sealed record RecipientReply(string Recipient, int? Code, string? Text = null);

/// <summary>
/// What delivery observed in one SMTP session, fact by fact; the classifier draws the conclusions.
/// </summary>
/// <param name="Stage">Where the session ended: dns, connect, greeting, ehlo, starttls, tls, mail, rcpt, data, dot, quit.</param>
/// <param name="TlsFailure">The handshake or certificate failure text when STARTTLS was tried and failed.</param>
/// <param name="Authentication">From <see cref="PeerAuthenticator"/>; null when no certificate was checked.</param>
/// <param name="SessionError">Connection or protocol error text (timeouts, resets, garbled replies).</param>
public sealed record AttemptReport(
    string Stage,
    bool StartTlsOffered,
    bool TlsEstablished,
    IReadOnlyList<RecipientReply> Recipients,
    string? TlsVersion = null,
    string? TlsCipher = null,
    string? TlsFailure = null,
    PeerAuthentication? Authentication = null,
    string? SessionError = null);
