namespace Relay.Web.Auth;

/// <summary>
/// The per-account failure budget, beside <see cref="LoginThrottle"/>'s per-address lockout: otherwise every extra
/// source address buys an attacker another full set of guesses. Failed logins for the admin account are free up
/// to <c>freeFailures</c>; each one after that locks the account for a delay that doubles (first delay, 2×, 4×, …,
/// at most <see cref="MaxDelay"/>), from any address and even for the right password, so guessing over many
/// addresses gains nothing. A success resets the budget; so does a quiet day.
/// </summary>
public sealed class AccountThrottle(int freeFailures, TimeSpan firstDelay, TimeProvider clock)
{
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan Forget = TimeSpan.FromDays(1);

    private readonly Lock gate = new();
    private int failures;
    private DateTimeOffset lastFailure;
    private DateTimeOffset lockedUntil;

    /// <summary>How long the account stays locked, or null when a login may be tried.</summary>
    public TimeSpan? LockedFor()
    {
        lock (gate)
        {
            var left = lockedUntil - clock.GetUtcNow();
            return left > TimeSpan.Zero ? left : null;
        }
    }

    /// <summary>Counts a failure; returns the lockout it starts (null while the budget lasts).</summary>
    public TimeSpan? Failed()
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            if (now - lastFailure > Forget) failures = 0;
            lastFailure = now;
            failures++;
            if (failures <= freeFailures) return null;
            var doublings = Math.Min(failures - freeFailures - 1, 20);
            var delay = TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, firstDelay.Ticks << doublings));
            lockedUntil = now + delay;
            return delay;
        }
    }

    public void Succeeded()
    {
        lock (gate)
        {
            failures = 0;
            lockedUntil = default;
        }
    }
}
