using Relay.Delivery.Engine;

namespace Relay.Delivery.Tests;

public class SchedulingTests
{
    private static readonly DeliveryOptions Options = new()
    {
        FirstRetry = TimeSpan.FromMinutes(5), MaxRetry = TimeSpan.FromMinutes(67), Lifetime = TimeSpan.FromDays(5),
    };

    [Fact]
    public void Backoff_starts_at_five_minutes_doubles_and_caps_at_67()
    {
        var schedule = new RetrySchedule(Options);
        var received = DateTimeOffset.UtcNow;
        var now = received;
        Assert.Equal(TimeSpan.FromMinutes(5), schedule.NextAttempt(0, received, now) - now);
        Assert.Equal(TimeSpan.FromMinutes(10), schedule.NextAttempt(1, received, now) - now);
        Assert.Equal(TimeSpan.FromMinutes(40), schedule.NextAttempt(3, received, now) - now);
        Assert.Equal(TimeSpan.FromMinutes(67), schedule.NextAttempt(4, received, now) - now);
        Assert.Equal(TimeSpan.FromMinutes(67), schedule.NextAttempt(400, received, now) - now);
    }

    [Fact]
    public void Last_retry_lands_on_the_lifetime_and_after_it_the_message_expires()
    {
        var schedule = new RetrySchedule(Options);
        var received = DateTimeOffset.UtcNow - TimeSpan.FromDays(5) + TimeSpan.FromMinutes(10);
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(received + TimeSpan.FromDays(5), schedule.NextAttempt(10, received, now));
        Assert.False(schedule.Expired(received, now));
        Assert.True(schedule.Expired(received, now + TimeSpan.FromMinutes(11)));
    }

    [Fact]
    public void Delay_warning_is_due_on_exactly_the_deferral_that_crosses_the_threshold()
    {
        var schedule = new RetrySchedule(Options with { DelayWarning = TimeSpan.FromHours(4) });
        var received = DateTimeOffset.UtcNow;
        var now = received;
        var warnings = 0;
        for (var attempts = 0; attempts < 40; attempts++)
        {
            if (schedule.DelayWarningDue(attempts, received, now)) warnings++;
            now = schedule.NextAttempt(attempts, received, now);
        }
        Assert.Equal(1, warnings);
        Assert.False(new RetrySchedule(Options).DelayWarningDue(10, received, received.AddDays(1)));
    }
}
