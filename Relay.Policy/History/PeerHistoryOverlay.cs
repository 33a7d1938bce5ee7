using Relay.Policy.Planning;

namespace Relay.Policy.History;

/// <summary>
/// Peer history (TOFU, RFC 7435 §3) as a plan input, a pure function of one peer's plan, its recorded facts and the time.
/// It only raises, and only opportunism: a peer planned opportunistically (`may`, `dane` without usable secure TLSA, MTA-STS
/// `testing`) that completed TLS within the window is raised to TLS-required, so a STARTTLS stripped or broken on the path
/// defers instead of going out in cleartext. An explicit destination policy wins (RFC 7435 "coexist with explicit policy")
/// and is left as it is; DANE, MTA-STS `enforce`, `encrypt` and stronger plans already forbid cleartext and are not touched.
/// Every peer with history carries it (<see cref="PeerPlan.History"/>), so the classifier can flag a possible downgrade
/// even where the plan lets the mail go.
/// </summary>
public static class PeerHistoryOverlay
{
    public static PeerPlan Apply(PeerPlan peer, PeerHistoryFacts? facts, HistorySettings settings, bool explicitPolicy, DateTimeOffset now)
    {
        if (facts is null || peer.Mode == PeerMode.Skip) return peer;
        var since = now - settings.Window;
        var input = new PeerHistoryInput(
            OfferedStartTlsRecently: facts.StartTlsOfferedAt >= since,
            TlsRecently: facts.TlsEstablishedAt >= since,
            KnownKeys: facts.KnownKeys,
            Protected: false,
            WindowText: settings.WindowText,
            StartTlsOfferedAt: facts.StartTlsOfferedAt,
            TlsEstablishedAt: facts.TlsEstablishedAt);
        var unshaped = peer.WithoutHistory ?? peer;
        if (!settings.DowngradeProtection || !input.TlsRecently || explicitPolicy || peer.Mode != PeerMode.Opportunistic)
            return peer with { History = input, WithoutHistory = unshaped };
        return peer with
        {
            WithoutHistory = unshaped,
            Mode = PeerMode.Encrypt,
            CleartextFallbackAllowed = false,
            History = input with { Protected = true },
            Why = peer.Why + $"; downgrade protection: TLS with this peer completed within the last {settings.WindowText}, so TLS is required"
                + $" (`relay peers forget {peer.Host}` clears the history)",
        };
    }
}
