namespace Relay.Policy.MtaSts;

/// <summary>
/// The MTA-STS facts a plan is made with: the policy in force (fresh from the fetch or from the cache, with the id it
/// was fetched under and when it expires), and the failure of this round's fetch if there was one (a cached policy
/// may still be in force then; RFC 8461 §5.1). <see cref="Policy"/> null: no policy applies.
/// </summary>
public sealed record StsInput(StsPolicy? Policy, string? Id, DateTimeOffset? Expires, StsFetch.Failed? FetchFailure, string Source)
{
    public static StsInput NoPolicy(string why, StsFetch.Failed? failure = null) => new(null, null, null, failure, why);
}
