namespace Relay.Policy.History;

/// <summary>
/// A peer's history as the plan carries it: reduced, at planning time, to what the classifier and the session need.
/// <see cref="Protected"/>: the plan raised this peer from opportunistic to TLS-required because of its history.
/// Equal by the decisions only (the times are for operator texts), so plans made from the same history in separate
/// planning runs stay equal and a parked session can carry the next batch's mail.
/// </summary>
/// <param name="OfferedStartTlsRecently">An EHLO offered STARTTLS within the window.</param>
/// <param name="TlsRecently">A TLS handshake completed within the window.</param>
/// <param name="KnownKeys">SPKI fingerprints seen before (empty: none, so no key can be "new").</param>
public sealed record PeerHistoryInput(
    bool OfferedStartTlsRecently,
    bool TlsRecently,
    IReadOnlyList<string> KnownKeys,
    bool Protected,
    string WindowText,
    DateTimeOffset? StartTlsOfferedAt = null,
    DateTimeOffset? TlsEstablishedAt = null)
{
    public bool Equals(PeerHistoryInput? other) => other is not null
        && OfferedStartTlsRecently == other.OfferedStartTlsRecently && TlsRecently == other.TlsRecently && Protected == other.Protected
        && WindowText == other.WindowText && KnownKeys.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(other.KnownKeys);

    public override int GetHashCode() => HashCode.Combine(OfferedStartTlsRecently, TlsRecently, Protected, KnownKeys.Count);
}
