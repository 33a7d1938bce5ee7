namespace Relay.Policy.Classification;

public enum RecipientFate { Delivered, Deferred, Bounced }

public sealed record RecipientDisposition(string Recipient, RecipientFate Fate, string Reason);

/// <summary>
/// The one outcome of an attempt (DESIGN.md § Security vocabulary), as stored: transport, how, reason.
/// <see cref="RequirementMet"/> is false when the peer's plan demanded more than the session achieved.
/// </summary>
public sealed record AttemptOutcome(
    TransportSecurity Transport,
    AuthenticationMethod How,
    string? Reason,
    bool RequirementMet,
    IReadOnlyList<RecipientDisposition> Recipients)
{
    public static string ToWire(RecipientFate fate) => fate switch
    {
        RecipientFate.Delivered => "delivered",
        RecipientFate.Deferred => "deferred",
        RecipientFate.Bounced => "bounced",
        _ => throw new ArgumentOutOfRangeException(nameof(fate), fate, null),
    };
}
