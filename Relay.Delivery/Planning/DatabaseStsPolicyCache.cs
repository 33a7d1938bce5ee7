using Relay.Db;
using Relay.Policy;
using Relay.Policy.MtaSts;

namespace Relay.Delivery.Planning;

/// <summary>Relay.Policy's MTA-STS cache on the database (sts_policies), so every delivery process shares one cache.</summary>
public sealed class DatabaseStsPolicyCache(RelayDatabase database) : IStsPolicyCache
{
    public async Task<CachedStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken)
    {
        var row = await database.StsPolicies.GetAsync(domain, cancellationToken).ConfigureAwait(false);
        // A row the schema allowed but this version cannot read is no policy: the next fetch replaces it.
        if (row is null || !StsModeWire.TryParse(row.Mode, out var mode)) return null;
        return new CachedStsPolicy(row.Domain, row.PolicyId, new StsPolicy(mode, row.Mx, TimeSpan.FromSeconds(row.MaxAgeSeconds)) { Lines = row.Lines },
            row.FetchedAt);
    }

    public Task SaveAsync(CachedStsPolicy policy, CancellationToken cancellationToken) =>
        database.StsPolicies.SaveAsync(new StsPolicyRow(policy.Domain, policy.Id, policy.Policy.Mode.ToWire(), policy.Policy.Mx,
            (long)policy.Policy.MaxAge.TotalSeconds, policy.FetchedAt, policy.Policy.Lines), cancellationToken);
}
