namespace Relay.Policy.Classification;

public enum RecipientFate { Delivered, Deferred, Bounced }

/// <param name="Status">RFC 3463 status for the DSN and the log.</param>
/// <param name="Reason">The reply (or our text) that decided the fate.</param>
public sealed record RecipientDisposition(string Recipient, RecipientFate Fate, string Status, string Reason);

/// <summary>
/// What the channel to one peer achieved, mail or not: the transport it could carry mail at, and whether that meets the
/// peer's plan. Delivery asks this before sending (a session that does not meet its plan carries nothing).
/// </summary>
public sealed record ChannelSecurity(
    TransportSecurity Transport,
    AuthenticationMethod How,
    string? Reason,
    TlsRptResult? ResultType,
    bool RequirementMet,
    string? Unmet);

/// <summary>
/// The one outcome of an attempt (DESIGN.md § Security vocabulary), as stored. <see cref="Transport"/> is null when the
/// attempt carried no message (no peer reached, or the session ended before MAIL FROM was accepted): nothing sent is
/// never shown as cleartext. Recipients are in the order of the report's. <see cref="Network"/> is the network layer's
/// outcome (the sidecar's facts, passed through), recorded beside the transport whether or not anything was sent.
/// </summary>
public sealed record AttemptOutcome(
    TransportSecurity? Transport,
    AuthenticationMethod How,
    string? Reason,
    TlsRptResult? ResultType,
    bool RequirementMet,
    IReadOnlyList<RecipientDisposition> Recipients,
    NetworkFacts? Network = null)
{
    public bool NothingSent => Transport is null;

    /// <summary>Operator text when the attempt, measured against the peer's history, is a possible downgrade (RFC 7435 §3):
    /// STARTTLS offered recently and not now, or TLS that completed recently and now fails. Null otherwise.</summary>
    public string? Downgrade { get; init; }

    /// <summary>The handshake presented an SPKI the peer's earlier handshakes did not: recorded and shown, never blocking.</summary>
    public bool KeyChanged { get; init; }
}
