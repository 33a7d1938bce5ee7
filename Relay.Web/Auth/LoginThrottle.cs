using System.Collections.Concurrent;

namespace Relay.Web.Auth;

/// <summary>
/// Locks a client address out after <see cref="Threshold"/> consecutive failed logins for
/// <see cref="LockoutDuration"/>. During the lockout even the right password is refused, so guessing
/// gains nothing; a success resets the count.
/// </summary>
public sealed class LoginThrottle(int threshold, TimeSpan lockoutDuration, TimeProvider clock)
{
    private sealed record State(int Failures, DateTimeOffset? LockedUntil);

    private readonly ConcurrentDictionary<string, State> states = new(StringComparer.Ordinal);

    public int Threshold => threshold;
    public TimeSpan LockoutDuration => lockoutDuration;

    /// <summary>How long the client must still wait, or null when it may try.</summary>
    public TimeSpan? LockedFor(string client)
    {
        if (!states.TryGetValue(client, out var state) || state.LockedUntil is not { } until)
            return null;
        var left = until - clock.GetUtcNow();
        if (left > TimeSpan.Zero)
            return left;
        states.TryRemove(client, out _);
        return null;
    }

    public void Failed(string client)
    {
        // Bound the table: failures spread over very many addresses must not grow it without limit.
        if (states.Count > MaxTracked)
            foreach (var (key, state) in states)
                if (state.LockedUntil is null || state.LockedUntil <= clock.GetUtcNow())
                    states.TryRemove(key, out _);
        Count(client);
    }

    private const int MaxTracked = 10_000;

    private void Count(string client) => states.AddOrUpdate(client,
        _ => new State(1, threshold <= 1 ? clock.GetUtcNow() + lockoutDuration : null),
        (_, s) => s.Failures + 1 >= threshold ? new State(0, clock.GetUtcNow() + lockoutDuration) : s with { Failures = s.Failures + 1 });

    public void Succeeded(string client) => states.TryRemove(client, out _);
}
