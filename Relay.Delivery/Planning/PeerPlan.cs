using Relay.Delivery.Routing;
using Relay.Smtp.Client;

namespace Relay.Delivery.Planning;

/// <summary>How STARTTLS is used with one peer.</summary>
public enum TlsMode
{
    /// <summary>Policy `none`: never STARTTLS; recorded as cleartext with reason policy-none.</summary>
    Never,
    /// <summary>STARTTLS when offered; a refusal or failed handshake falls back to a new cleartext connection.</summary>
    Opportunistic,
    /// <summary>TLS or nothing: no STARTTLS, a failed handshake or a rejected certificate skips the peer.</summary>
    Required,
}

/// <summary>What the judge decided about the certificate a peer presented, in the words of DESIGN.md.</summary>
public sealed record CertificateVerdict(bool Accept, string Transport, string How, string? Reason = null)
{
    public static CertificateVerdict Reject(string reason) => new(false, "encrypted", "none", reason);
}

/// <summary>Called from the TLS handshake (PolicyPlanner wires in Relay.Policy's authenticator and classifier).</summary>
public interface ICertificateJudge
{
    CertificateVerdict Judge(TlsPeerEvidence evidence);
}

/// <summary>The plan for one peer: where, how hard to insist on TLS, which names to send and check.</summary>
public sealed record PeerPlan(
    PeerCandidate Peer,
    string Level,
    TlsMode Tls,
    string? ServerName,
    ICertificateJudge Judge,
    string TlsaStatus = "not-queried",
    IReadOnlyList<string>? Tlsa = null)
{
    /// <summary>Set by the planner when the certificate must authenticate the peer (DANE, PKIX, pin).</summary>
    public bool? RequiresAuthentication { get; init; }

    /// <summary>
    /// Everything the <see cref="Judge"/> decides on, as text: two plans with equal texts judge a certificate alike,
    /// so a parked session judged under one may carry mail under the other. Null: only the same judge object counts.
    /// </summary>
    public string? JudgeIdentity { get; init; }

    /// <summary>RFC 7435 §3: only authenticated levels demand TLS 1.2+; opportunistic TLS takes anything.</summary>
    public bool Authenticated => RequiresAuthentication ?? (Level is "dane-only" or "verify" or "secure" or "fingerprint" || TlsaStatus == "secure");
}

/// <summary>The ordered peers of a next hop, or why there are none.</summary>
public sealed record DeliveryPlan(string NextHop, string Level, IReadOnlyList<PeerPlan> Peers, HopFailure? Failure);

/// <summary>Makes the plan for a next hop: routing plus policy. Relay.Policy's PlanFor is adapted behind this.</summary>
public interface IDeliveryPlanner
{
    Task<DeliveryPlan> PlanAsync(string nextHop, CancellationToken cancellationToken);
}
