using Relay.Db;
using Relay.Dns;
using Relay.Policy.History;
using Relay.Policy.MtaSts;
using Relay.Policy.Planning;

namespace Relay.Delivery.Planning;

/// <summary>
/// Plans one next hop with Relay.Policy: configured routes (<see cref="DeliveryOptions.Routes"/>) are Policy's route
/// next hops, the destination_policies table its <see cref="PolicyTable"/>, MTA-STS (cached in sts_policies) a further plan input. Delivery adds only the order of the
/// addresses it tries: random among equal MX preferences, capped at <see cref="DeliveryOptions.MaxAddressesPerAttempt"/>.
/// </summary>
public sealed class HopPlanner(IDnsResolver? dns, RelayDatabase? database, DeliveryOptions options)
{
    private readonly StsPolicyService? sts = dns is null ? null : StsServices.Create(dns, database, options);

    public async Task<HopPlan> PlanAsync(string nextHop, CancellationToken cancellationToken)
    {
        var hop = options.Routes.TryGetValue(nextHop, out var route) ? route : NextHop.ForDomain(nextHop, options.Port);
        var (policies, unreadable) = await PoliciesAsync(cancellationToken).ConfigureAwait(false);
        if (unreadable is not null)
            // An explicit policy we cannot read might be the one that forbids cleartext: never guess, defer.
            return new HopPlan(nextHop, DeliveryPlan.Failed(hop, ResolvedPolicy.Default(options.DefaultPolicy),
                new PlanFailure(PlanFailureKind.PolicyUnreadable, unreadable)), []);
        var table = new PolicyTable(policies, options.DefaultPolicy);
        var plan = await new DeliveryPlanService(dns ?? NoResolver.Instance, table).PlanAsync(hop, cancellationToken).ConfigureAwait(false);
        if (sts is not null) plan = await StsPlanStep.ApplyAsync(plan, sts, cancellationToken).ConfigureAwait(false);
        Recording.DeliveryMetrics.Planned(plan);
        if (plan.Failure is not null) return new HopPlan(nextHop, plan, []);

        var targets = new List<PeerTarget>();
        foreach (var group in plan.UsablePeers.GroupBy(p => p.Preference).OrderBy(g => g.Key))
            foreach (var peer in group.OrderBy(_ => Random.Shared.Next()))
                foreach (var address in peer.Addresses)
                    if (targets.Count < options.MaxAddressesPerAttempt)
                        targets.Add(new PeerTarget(peer, address, hop.Port));
        return new HopPlan(nextHop, plan, await WithHistoryAsync(plan, targets, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Peer history (TOFU) is kept per peer, MX name and address, so it shapes each target's plan: the one place it enters
    /// delivery. <see cref="PeerHistoryOverlay"/> decides; the session and the classifier read only the plan.
    /// </summary>
    private async Task<IReadOnlyList<PeerTarget>> WithHistoryAsync(DeliveryPlan plan, List<PeerTarget> targets, CancellationToken cancellationToken)
    {
        if (database is null || targets.Count == 0) return targets;
        var history = await database.PeerHistory.LoadAsync(targets.Select(t => (t.Name, t.Address.ToString())).Distinct().ToList(), cancellationToken)
            .ConfigureAwait(false);
        if (history.Count == 0) return targets;
        var now = DateTimeOffset.UtcNow;
        return targets.Select(t => history.TryGetValue((t.Name, t.Address.ToString()), out var row)
            ? t with { Plan = PeerHistoryOverlay.Apply(t.Plan, new PeerHistoryFacts(row.StartTlsOfferedAt, row.TlsEstablishedAt, row.Keys),
                options.History, plan.Policy.Explicit is not null, now) }
            : t).ToList();
    }

    private async Task<(IReadOnlyList<DestinationPolicy> Policies, string? Unreadable)> PoliciesAsync(CancellationToken cancellationToken)
    {
        if (database is null) return ([], null);
        var rows = await database.Policies.ListAsync(cancellationToken).ConfigureAwait(false);
        var policies = new List<DestinationPolicy>(rows.Count);
        foreach (var row in rows)
        {
            // `relay policy` and the web UI validate on write, so this only meets rows edited by hand in SQL.
            try { policies.Add(DestinationPolicy.FromWire(row.Destination, row.Level, row.Fingerprints, row.MatchNames, row.Note)); }
            catch (FormatException e) { return ([], $"destination policy '{row.Destination}' is unreadable ({e.Message}); fix or delete it"); }
        }
        return (policies, null);
    }

    /// <summary>No resolver configured: every lookup is an error, so MX destinations defer and routes still work.</summary>
    private sealed class NoResolver : IDnsResolver
    {
        public static NoResolver Instance { get; } = new();

        public Task<DnsResult> QueryAsync(string name, DnsType type, CancellationToken cancellationToken = default) =>
            Task.FromResult<DnsResult>(new DnsResult.Error(name, type, DnsErrorKind.BadQuery, "no DNS resolver configured (Relay:Dns:Servers)"));
    }
}
