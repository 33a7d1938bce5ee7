using Relay.Policy.Planning;
using Relay.Smtp.Client;

namespace Relay.Policy.Classification;

/// <summary>
/// Outcomes of a next hop as a whole, when no single session carried the message: the plan failed, every peer failed,
/// or no reached peer can take a REQUIRETLS message. Each is nothing sent; only the recipients' fates differ.
/// </summary>
public static class HopOutcomes
{
    /// <summary>No attempt was possible: deferred, or bounced when the failure cannot change (NXDOMAIN, null MX).</summary>
    public static AttemptOutcome ForPlanFailure(PlanFailure failure, IEnumerable<string> recipients)
    {
        var fate = failure.Permanent ? RecipientFate.Bounced : RecipientFate.Deferred;
        var reply = $"{failure.Status} {failure.Reason}";
        return new AttemptOutcome(null, AuthenticationMethod.None, failure.Reason, failure.ResultType, false,
            recipients.Select(r => new RecipientDisposition(r, fate, failure.Status, reply)).ToArray());
    }

    /// <summary>
    /// Every peer failed before taking the message (each attempt is recorded on its own): deferred, with every peer's
    /// reason. A 5xx greeting from one MX is still "try later" (RFC 5321 §5.1), so the status is never permanent.
    /// </summary>
    /// <param name="lastFailure">The last peer's failing reply, if it sent one; null with <paramref name="anyTried"/> false: no peer could be tried.</param>
    public static AttemptOutcome AllPeersFailed(string summary, bool anyTried, ServerReply? lastFailure, IEnumerable<string> recipients)
    {
        var status = !anyTried ? "4.4.1"
            : lastFailure is null ? "4.4.2"
            : lastFailure.IsPermanent ? "4.4.1"
            : lastFailure.EnhancedStatus ?? "4.4.2";
        var reason = anyTried ? "every peer failed: " + summary : "no peer could be tried";
        return new AttemptOutcome(null, AuthenticationMethod.None, reason, null, false,
            recipients.Select(r => new RecipientDisposition(r, RecipientFate.Deferred, status, summary)).ToArray());
    }

    /// <summary>RFC 8689 §4.2.1 and §5: every peer was reached and none can take REQUIRETLS mail; bounce now with 5.7.30.</summary>
    public static AttemptOutcome RequireTlsUnavailable(string summary, IEnumerable<string> recipients)
    {
        var reply = $"550 5.7.30 REQUIRETLS support required: {summary}";
        return new AttemptOutcome(null, AuthenticationMethod.None, "no peer satisfies REQUIRETLS", null, false,
            recipients.Select(r => new RecipientDisposition(r, RecipientFate.Bounced, "5.7.30", reply)).ToArray());
    }
}
