using System.Collections.Concurrent;

namespace Relay.Policy.MtaSts;

/// <summary>
/// The async layer that gives the planner its MTA-STS input (as <see cref="Planning.DeliveryPlanService"/> gives it DNS
/// answers): the TXT record, then the cache, then a fetch only when the cached policy is missing, expired or was fetched
/// under another id (RFC 8461 §3.3, §5.1). A failed fetch or a vanished TXT record leaves an unexpired cached policy in
/// force: that is what makes MTA-STS resist an attacker who blocks the fetch or strips the record. A failed fetch is
/// remembered in memory for <see cref="FailureHold"/> per domain and id, so a dead policy server costs one fetch time
/// limit per hold, not one per planning of every hop to that domain; the remembered failure is answered as it was.
/// </summary>
public sealed class StsPolicyService(StsDiscoveryLookup discovery, StsPolicyFetcher fetcher, IStsPolicyCache cache, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Domain, string Id), (StsFetch.Failed Failure, DateTimeOffset Until)> recentFailures = new();

    /// <summary>How long a failed fetch answers for its domain and id before the next real fetch (RFC 8461 leaves retries to us).</summary>
    public TimeSpan FailureHold { get; init; } = TimeSpan.FromMinutes(5);

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

        var held = recentFailures.TryGetValue((domain, id), out var recent) && now < recent.Until ? recent : default;
        var note = held.Failure is null ? "" : $" (failure remembered until {held.Until:yyyy-MM-dd'T'HH:mm:ss'Z'})";
        switch (held.Failure ?? await FetchAsync(domain, id, now, cancellationToken).ConfigureAwait(false))
        {
            case StsFetch.Fetched fetched:
                var stored = new CachedStsPolicy(domain, id, fetched.Policy, now);
                await cache.SaveAsync(stored, cancellationToken).ConfigureAwait(false);
                return InForce(stored, $"fetched policy (id {id})");
            case StsFetch.Failed failed when fresh is not null:
                return InForce(fresh, $"cached policy (id {fresh.Id}); fetch of id {id} failed: {failed.Reason}{note}") with { FetchFailure = failed };
            case StsFetch.Failed failed:
                return StsInput.NoPolicy($"policy id {id} could not be fetched: {failed.Reason}{note}", failed);
            default:
                throw new InvalidOperationException("unknown fetch answer");
        }
    }

    /// <summary>Fetches, remembering a failure for <see cref="FailureHold"/> and forgetting it on success; expired
    /// entries are dropped on the way, so the map holds only domains that failed within the hold.</summary>
    private async Task<StsFetch> FetchAsync(string domain, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var answer = await fetcher.FetchAsync(domain, cancellationToken).ConfigureAwait(false);
        foreach (var entry in recentFailures)
            if (entry.Value.Until <= now) recentFailures.TryRemove(entry);
        if (answer is StsFetch.Failed failed && FailureHold > TimeSpan.Zero) recentFailures[(domain, id)] = (failed, time.GetUtcNow() + FailureHold);
        else recentFailures.TryRemove((domain, id), out _);
        return answer;
    }

    private static StsInput InForce(CachedStsPolicy cached, string source) => new(cached.Policy, cached.Id, cached.Expires, null, source);
}
