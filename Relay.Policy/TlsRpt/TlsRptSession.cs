namespace Relay.Policy.TlsRpt;

/// <summary>
/// What one recorded attempt contributes to a TLS report, from its row (or <see cref="Count"/> alike rows at once).
/// </summary>
/// <param name="TlsEstablished">The STARTTLS handshake completed (the row has a TLS version).</param>
/// <param name="ResultType">The classifier's RFC 8460 result type; null when TLS did what the policy asked (or was never tried).</param>
/// <param name="SendingIp">Our address on that connection, when one was made.</param>
/// <param name="ReceivingMx">The MX host name; null when no peer was picked.</param>
/// <param name="ReceivingHelo">The name the MX gave in its EHLO (or HELO) reply.</param>
public sealed record TlsRptSession(
    TlsRptPolicy Policy,
    bool TlsEstablished,
    TlsRptResult? ResultType,
    string? SendingIp,
    string? ReceivingMx,
    string? ReceivingIp,
    string? ReceivingHelo,
    long Count = 1)
{
    /// <summary>
    /// RFC 8460 §4.4 counts "successfully negotiated TLS-enabled connections" and "failures to negotiate a TLS-enabled
    /// connection". So an attempt counts when it has a result type (a TLS or policy failure, even one that stopped delivery
    /// before any connection: `dnssec-invalid`, `dane-required`, `sts-policy-fetch-error`) or when its handshake completed.
    /// An attempt that never reached TLS for reasons that are not TLS's (no MX, connection refused or timed out, a refused
    /// greeting or EHLO, or a `none` policy that never tries STARTTLS) has neither and is left out: the RFC defines no
    /// result type for it, and counting it as a success would claim a TLS session that did not happen.
    /// </summary>
    public bool Counts => ResultType is not null || TlsEstablished;

    public bool Succeeded => ResultType is null && TlsEstablished;
}
