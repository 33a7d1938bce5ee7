namespace Relay.Delivery.Engine;

/// <summary>
/// Exponential backoff: first retry after <see cref="DeliveryOptions.FirstRetry"/>, doubling per attempt up
/// to <see cref="DeliveryOptions.MaxRetry"/>; a deferral after <see cref="DeliveryOptions.Lifetime"/> becomes a
/// bounce, and the last retry is pulled in to the end of the lifetime so expiry is never overshot by a cap.
/// </summary>
public sealed class RetrySchedule(DeliveryOptions options)
{
    /// <param name="attemptsBefore">Attempts recorded before this one (0 for the first delivery attempt).</param>
    public DateTimeOffset NextAttempt(int attemptsBefore, DateTimeOffset receivedAt, DateTimeOffset now)
    {
        var exponent = Math.Clamp(attemptsBefore, 0, 30);
        var delay = TimeSpan.FromTicks((long)Math.Min(options.MaxRetry.Ticks, options.FirstRetry.Ticks * Math.Pow(2, exponent)));
        var next = now + delay;
        var expiry = receivedAt + options.Lifetime;
        return next > expiry && now < expiry ? expiry : next;
    }

    /// <summary>True when a deferral now must become a bounce (RFC 5321 §4.5.4.1: give up after the queue lifetime).</summary>
    public bool Expired(DateTimeOffset receivedAt, DateTimeOffset now) => now >= receivedAt + options.Lifetime;

    /// <summary>
    /// True on the one deferral that crosses <see cref="DeliveryOptions.DelayWarning"/>: the message is older
    /// than the threshold now and was younger at the previous attempt (estimated from the schedule, so an
    /// operator's early retry can at worst repeat the warning, never skip it).
    /// </summary>
    public bool DelayWarningDue(int attemptsBefore, DateTimeOffset receivedAt, DateTimeOffset now)
    {
        if (options.DelayWarning is not { } threshold) return false;
        var age = now - receivedAt;
        if (age < threshold) return false;
        if (attemptsBefore == 0) return true;
        var previousDelay = NextAttempt(attemptsBefore - 1, receivedAt, receivedAt) - receivedAt;
        return age - previousDelay < threshold;
    }
}
