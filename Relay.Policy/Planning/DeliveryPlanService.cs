using Relay.Dns;

namespace Relay.Policy.Planning;

/// <summary>
/// The thin async layer over <see cref="DeliveryPlanner"/>: asks the resolver what the planner reports
/// missing, in parallel per round, until the plan is complete. Bounded in rounds (MX, addresses, then at
/// most two TLSA base domains) and by the caller's deadline.
/// </summary>
public sealed class DeliveryPlanService(IDnsResolver resolver, PolicyTable table)
{
    private const int MaxRounds = 6;

    public async Task<DeliveryPlan> PlanAsync(NextHop hop, CancellationToken cancellationToken)
    {
        var policy = table.Lookup(hop.Domain, hop.RouteText);
        var answers = new DnsAnswers();
        for (var round = 0; round < MaxRounds; round++)
        {
            var step = DeliveryPlanner.PlanFor(hop, policy, answers);
            if (step.Plan is { } plan) return plan;
            var results = await Task.WhenAll(step.Missing.Select(q => resolver.QueryAsync(q.Name, q.Type, cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < results.Length; i++) answers.Add(step.Missing[i].Name, step.Missing[i].Type, results[i]);
        }
        return DeliveryPlan.Failed(hop, policy, new PlanFailure(PlanFailureKind.TooManyLookups, $"planning needed more than {MaxRounds} rounds of DNS lookups"));
    }
}
