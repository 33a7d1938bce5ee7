using Relay.Db;
using Relay.Dns;
using Relay.Policy.MtaSts;

namespace Relay.Delivery.Planning;

/// <summary>Builds Relay.Policy's MTA-STS service from delivery's options: its resolver, trust anchors, port and cache.</summary>
public static class StsServices
{
    public static StsPolicyService Create(IDnsResolver dns, RelayDatabase? database, DeliveryOptions options) =>
        new(new StsDiscoveryLookup(dns), new StsPolicyFetcher(dns, new StsFetchOptions(options.MtaStsPort, options.TrustAnchors)),
            database is null ? new NoCache() : new DatabaseStsPolicyCache(database), TimeProvider.System);

    /// <summary>Without a database (`relay check` with no Relay:Database) every lookup fetches and nothing is kept.</summary>
    private sealed class NoCache : IStsPolicyCache
    {
        public Task<CachedStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken) => Task.FromResult<CachedStsPolicy?>(null);
        public Task SaveAsync(CachedStsPolicy policy, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
