using Relay.Policy.Planning;

namespace Relay.Policy.MtaSts;

/// <summary>
/// Where MTA-STS joins planning, for delivery and `relay check` alike: after the DNS plan, and only when it can matter
/// (an MX next hop, no explicit policy, a usable peer whose TLSA answer leaves DANE undecided), so DANE domains never
/// wait for an HTTPS fetch they would ignore.
/// </summary>
public static class StsPlanStep
{
    public static bool Applies(DeliveryPlan plan) =>
        plan.Failure is null && plan.Policy.Explicit is null && plan.Mx is MxDnssec.Secure or MxDnssec.Insecure
        && plan.Peers.Any(p => p.Mode != PeerMode.Skip && p.TlsaStatus is not (TlsaStatus.Secure or TlsaStatus.Bogus or TlsaStatus.Error));

    public static async Task<DeliveryPlan> ApplyAsync(DeliveryPlan plan, StsPolicyService service, CancellationToken cancellationToken)
    {
        if (!Applies(plan)) return plan;
        var input = await service.LookupAsync(plan.NextHop.Domain, cancellationToken).ConfigureAwait(false);
        return StsPlanOverlay.Apply(plan, input) with { Sts = input };
    }
}
