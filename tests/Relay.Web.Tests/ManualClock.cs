namespace Relay.Web.Tests;

/// <summary>A clock the test moves by hand, handed to web roles as their TimeProvider (lockouts, idle sessions).</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;
    public override DateTimeOffset GetUtcNow() => Now;
}
