namespace Relay.Policy.MtaSts;

/// <summary>A policy as cached (RFC 8461 §5.1): the TXT id it was fetched under and when; it is in force until <see cref="Expires"/>.</summary>
public sealed record CachedStsPolicy(string Domain, string Id, StsPolicy Policy, DateTimeOffset FetchedAt)
{
    public DateTimeOffset Expires => FetchedAt + Policy.MaxAge;

    public bool IsFresh(DateTimeOffset now) => now < Expires;
}

/// <summary>Where policies are kept between fetches; delivery's is the database (Relay.Db's sts_policies).</summary>
public interface IStsPolicyCache
{
    Task<CachedStsPolicy?> GetAsync(string domain, CancellationToken cancellationToken);

    /// <summary>Replaces the domain's cached policy (a `none` policy too: it withdraws the one before).</summary>
    Task SaveAsync(CachedStsPolicy policy, CancellationToken cancellationToken);
}
