namespace Relay.Policy.History;

/// <summary>
/// What earlier attempts recorded about one peer (MX host name + address), as delivery read it from the peers row before
/// planning: the trust-on-first-use memory of RFC 7435 §3. Null times mean "never seen".
/// </summary>
/// <param name="StartTlsOfferedAt">The last time an EHLO from this peer offered STARTTLS.</param>
/// <param name="TlsEstablishedAt">The last time a TLS handshake with this peer completed.</param>
/// <param name="KnownKeys">Every SHA-256 SPKI fingerprint this peer presented in a completed handshake (hex).</param>
public sealed record PeerHistoryFacts(DateTimeOffset? StartTlsOfferedAt, DateTimeOffset? TlsEstablishedAt, IReadOnlyList<string> KnownKeys);

/// <param name="DowngradeProtection">Relay:Delivery:DowngradeProtection: a peer seen with TLS within the window gets no cleartext.</param>
/// <param name="Window">Relay:Delivery:DowngradeWindow: how long a sighting of STARTTLS or TLS counts as "recent".</param>
public sealed record HistorySettings(bool DowngradeProtection, TimeSpan Window)
{
    public static HistorySettings Default { get; } = new(true, TimeSpan.FromDays(30));

    /// <summary>The window in words, for operator texts ("30 days", "12 hours").</summary>
    public string WindowText => Window.TotalDays >= 1
        ? $"{Window.TotalDays.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} days"
        : $"{Window.TotalHours.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} hours";
}
