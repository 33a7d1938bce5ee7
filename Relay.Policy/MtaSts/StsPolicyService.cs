namespace Relay.Policy.MtaSts;

/// <summary>
/// The async layer that gives the planner its MTA-STS input (as <see cref="Planning.DeliveryPlanService"/> gives it DNS
/// answers): the TXT record, then the cache, then a fetch only when the cached policy is missing, expired or was fetched
/// under another id (RFC 8461 §3.3, §5.1). A failed fetch or a vanished TXT record leaves an unexpired cached policy in
/// force: that is what makes MTA-STS resist an attacker who blocks the fetch or strips the record.
/// </summary>
public sealed class StsPolicyService(StsDiscoveryLookup discovery, StsPolicyFetcher fetcher, IStsPolicyCache cache, TimeProvider time)
{
    public async Task<StsInput> LookupAsync(string domain, CancellationToken cancellationToken)
    {
        domain = domain.TrimEnd('.').ToLowerInvariant();
        var found = await discovery.DiscoverAsync(domain, cancellationToken).ConfigureAwait(false);
        var cached = await cache.GetAsync(domain, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var fresh = cached is not null && cached.IsFresh(now) ? cached : null;
        if (found is not StsDiscovery.Available { Id: var id })
        {
            var why = ((StsDiscovery.NotAvailable)found).Reason;
            return fresh is not null ? InForce(fresh, $"cached policy (id {fresh.Id}), {why}") : StsInput.NoPolicy(why);
        }
        if (fresh is not null && fresh.Id == id) return InForce(fresh, $"cached policy (id {id})");

        switch (await fetcher.FetchAsync(domain, cancellationToken).ConfigureAwait(false))
        {
            case StsFetch.Fetched fetched:
                var stored = new CachedStsPolicy(domain, id, fetched.Policy, now);
                await cache.SaveAsync(stored, cancellationToken).ConfigureAwait(false);
                return InForce(stored, $"fetched policy (id {id})");
            case StsFetch.Failed failed when fresh is not null:
                return InForce(fresh, $"cached policy (id {fresh.Id}); fetch of id {id} failed: {failed.Reason}") with { FetchFailure = failed };
            case StsFetch.Failed failed:
                return StsInput.NoPolicy($"policy id {id} could not be fetched: {failed.Reason}", failed);
            default:
                throw new InvalidOperationException("unknown fetch answer");
        }
    }

    private static StsInput InForce(CachedStsPolicy cached, string source) => new(cached.Policy, cached.Id, cached.Expires, null, source);
}
