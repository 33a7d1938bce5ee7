using Relay.Db.Web;

namespace Relay.Web.Auth;

/// <summary>
/// The admin login's two throttles, kept in PostgreSQL (web_login_throttle) so every web process of the database
/// shares them: a guesser who spreads attempts over several processes meets one budget.
/// Per address: <c>threshold</c> consecutive failed logins lock the address out for <c>addressLockout</c>.
/// Per account: otherwise every extra source address buys another full set of guesses, so failures with the admin user
/// name are free up to <c>threshold</c>; each one after that locks the account for a delay that doubles (first delay, 2×,
/// 4×, …, at most <see cref="MaxAccountDelay"/>), from any address. During a lockout even the right password is refused,
/// so guessing gains nothing; a success resets both counts, and a quiet day forgets them (the rows age out).
/// </summary>
public sealed class LoginThrottle(LoginThrottleStore store, int threshold, TimeSpan addressLockout, TimeSpan firstAccountDelay, TimeProvider clock)
{
    public static readonly TimeSpan MaxAccountDelay = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan Forget = TimeSpan.FromDays(1);

    private readonly LoginLimits limits = new(threshold, addressLockout, firstAccountDelay, MaxAccountDelay, Forget);

    /// <summary>
    /// Records one attempt whose user name and password were already checked (one round trip): while the address or the
    /// account is locked it is refused whatever the password, and counts nothing.
    /// </summary>
    /// <param name="account">The configured admin user name; <paramref name="accountGuessed"/>: the client typed it.</param>
    public Task<(LoginThrottleOutcome Outcome, TimeSpan? Wait)> AttemptAsync(string client, string account, bool accountGuessed, bool succeeded,
        CancellationToken cancellationToken) =>
        store.AttemptAsync(new LoginAttempt(client, account, accountGuessed, succeeded, clock.GetUtcNow()), limits, cancellationToken);
}
