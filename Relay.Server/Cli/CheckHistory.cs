using Relay.Db;
using Relay.Delivery.Planning;
using Relay.Policy;
using Relay.Policy.History;
using Relay.Policy.Planning;

namespace Relay.Server.Cli;

/// <summary>
/// What peer history (TOFU, RFC 7435 §3) knows of one peer address `relay check` plans for, and what it does to the plan:
/// <see cref="Input"/> is what <see cref="PeerHistoryOverlay"/> put into the target's plan (the same overlay delivery runs),
/// <see cref="Detail"/> what the peers row and peer_keys hold (sightings, the last flag, every key).
/// </summary>
internal sealed record PeerHistoryCheck(string Name, string Address, PeerHistoryInput? Input, PeerHistoryDetail? Detail, PolicyLevel Level,
    PolicyLevel LevelWithoutHistory, DateTimeOffset? ProtectedUntil, string Protection)
{
    public bool RaisesPlan => Input is { Protected: true };

    /// <summary>A new key after the first one is a key change (recorded and shown; only a `fingerprint` policy pins keys).</summary>
    public int KeyChanges => Math.Max(0, (Detail?.Keys.Count ?? 0) - 1);

    public static async Task<IReadOnlyList<PeerHistoryCheck>> ReadAsync(RelayDatabase? db, HopPlan hop, HistorySettings settings,
        CancellationToken cancellationToken)
    {
        var checks = new List<PeerHistoryCheck>();
        foreach (var target in hop.Targets.DistinctBy(t => (t.Name, t.Address)))
        {
            var address = target.Address.ToString();
            var detail = db is null ? null : await db.PeerHistory.GetDetailAsync(target.Name, address, cancellationToken).ConfigureAwait(false);
            var input = target.Plan.History;
            var without = target.Plan.WithoutHistory ?? target.Plan;
            DateTimeOffset? until = input is { Protected: true, TlsEstablishedAt: { } tlsAt } ? tlsAt + settings.Window : null;
            checks.Add(new PeerHistoryCheck(target.Name, address, input, detail, target.Plan.EffectiveLevel, without.EffectiveLevel, until,
                Why(db, input, settings, hop.Plan, without)));
        }
        return checks;
    }

    /// <summary>Why protection is on or off for this peer, in the overlay's own terms.</summary>
    private static string Why(RelayDatabase? db, PeerHistoryInput? input, HistorySettings settings, DeliveryPlan plan, PeerPlan without) =>
        db is null ? "no database configured (Relay:Database): no history is read"
        : input is null ? "no history recorded for this peer"
        : input.Protected ? $"active: TLS completed within the last {settings.WindowText}, so TLS is required"
        : !settings.DowngradeProtection ? "off (Relay:Delivery:DowngradeProtection is false): a possible downgrade is only flagged"
        : !input.TlsRecently ? $"not active: no TLS completed within the last {settings.WindowText}"
        : plan.Policy.Explicit is not null ? $"not active: the explicit policy {plan.Policy.Source} wins over history"
        : $"not needed: the plan ({without.EffectiveLevel.ToWire()}) already never falls back to cleartext";

    public object ToJson() => new
    {
        name = Name,
        address = Address,
        starttlsOffered = Detail?.StartTlsOffered,
        starttlsSeenAt = Detail?.StartTlsSeenAt,
        starttlsOfferedAt = Detail?.StartTlsOfferedAt ?? Input?.StartTlsOfferedAt,
        tlsEstablishedAt = Detail?.TlsEstablishedAt ?? Input?.TlsEstablishedAt,
        downgradeAt = Detail?.DowngradeAt,
        downgradeReason = Detail?.DowngradeReason,
        keys = (Detail?.Keys ?? []).Select(k => new { spki = k.Spki, firstSeen = k.FirstSeen, lastSeen = k.LastSeen, attempts = k.Attempts }).ToArray(),
        keyChanges = KeyChanges,
        protection = new { active = RaisesPlan, until = ProtectedUntil, why = Protection },
        raisesPlan = RaisesPlan,
        level = Level.ToWire(),
        levelWithoutHistory = LevelWithoutHistory.ToWire(),
    };

    public IEnumerable<string> ToText()
    {
        string At(DateTimeOffset? at) => at is { } t ? t.ToString("u") : "never";
        yield return $"  history {Name}[{Address}]: STARTTLS last offered {At(Detail?.StartTlsOfferedAt ?? Input?.StartTlsOfferedAt)}" +
                     (Detail?.StartTlsOffered is false ? " (not offered in the last EHLO)" : "") +
                     $", TLS last completed {At(Detail?.TlsEstablishedAt ?? Input?.TlsEstablishedAt)}";
        yield return "      downgrade protection " + Protection +
                     (ProtectedUntil is { } until ? $", until {until:u} (raises level {LevelWithoutHistory.ToWire()} → {Level.ToWire()})" : "");
        if (Detail?.DowngradeAt is { } flagged) yield return $"      last flagged {flagged:u}: {Detail.DowngradeReason}";
        if (Detail is { Keys.Count: > 0 } d)
            yield return $"      keys seen: {d.Keys.Count} ({KeyChanges} change(s)); current {d.Keys.MaxBy(k => k.LastSeen)!.Spki}";
    }
}
