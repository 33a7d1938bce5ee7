using Relay.Policy.Classification;
using Relay.Policy.Planning;

namespace Relay.Policy.History;

/// <summary>
/// The facts of one attempt against the history its plan carried (RFC 7435 §3): a peer that offered STARTTLS within the
/// window and now does not, or whose TLS completed within the window and now is refused or breaks, is a possible
/// downgrade — what an attacker stripping STARTTLS or breaking the handshake on the path looks like. An unreachable peer
/// or a refused certificate is not one: neither offers cleartext in place of TLS. Called by the classifier only.
/// </summary>
internal static class DowngradeDetector
{
    /// <summary>Operator text of the possible downgrade; null when the attempt is consistent with the history.</summary>
    public static string? Detect(PeerPlan peer, AttemptReport report)
    {
        if (peer.History is not { } history) return null;
        if (history.OfferedStartTlsRecently && report.EhloAccepted && !report.StartTlsOffered && !report.CleartextRetry)
            return $"possible downgrade: {peer.Host} offered STARTTLS within the last {history.WindowText}{Since(history.StartTlsOfferedAt)}"
                + " and now does not";
        if (!history.TlsRecently) return null;
        if (report.StartTlsRefused is { } refusal)
            return $"possible downgrade: TLS with {peer.Host} completed within the last {history.WindowText}{Since(history.TlsEstablishedAt)}"
                + $"; now STARTTLS is refused ({refusal})";
        if (report.Tls is { Established: false, CertificateRejected: false } broken)
            return $"possible downgrade: TLS with {peer.Host} completed within the last {history.WindowText}{Since(history.TlsEstablishedAt)}"
                + $"; now the handshake fails ({broken.Failure ?? "no reason given"})";
        return null;
    }

    /// <summary>A completed handshake presented a key none of the peer's earlier handshakes did (recorded, never blocking).</summary>
    public static bool KeyChanged(PeerPlan peer, AttemptReport report) =>
        peer.History is { KnownKeys.Count: > 0 } history
        && report.Tls is { Established: true, PeerSpki: { } spki }
        && !history.KnownKeys.Contains(spki, StringComparer.OrdinalIgnoreCase);

    private static string Since(DateTimeOffset? at) => at is { } t ? $" (last {t.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z)" : "";
}
