namespace Relay.Policy.MtaSts;

/// <summary>
/// What a `testing` policy (RFC 8461 §5) knows about one peer before any session: whether the policy's mx patterns list
/// it, and the failure of this round's policy fetch (a cached testing policy is in force then). Facts only: the
/// classifier turns them, with the session's report, into the result type enforcement would have had.
/// </summary>
public sealed record StsTestingFacts(bool MxMatches, StsFetch.Failed? FetchFailure);
