using Relay.Db;

namespace Relay.Db.Tests;

/// <summary>The delivery loop's wake-up: one Set wakes one wait, and a wait ended early answers false instead of throwing.</summary>
public class WakeSignalTests
{
    [Fact]
    public async Task A_set_before_the_wait_wakes_it_at_once_and_is_consumed_by_it()
    {
        var signal = new WakeSignal();
        signal.Set();
        signal.Set(); // any number of sets raise it once

        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.False(await signal.WaitAsync(TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task A_set_during_the_wait_wakes_it()
    {
        var signal = new WakeSignal();
        var waiting = signal.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        signal.Set();

        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_timeout_answers_false()
    {
        var signal = new WakeSignal();
        Assert.False(await signal.WaitAsync(TimeSpan.FromMilliseconds(30), CancellationToken.None));
    }

    [Fact]
    public async Task A_cancelled_wait_answers_false_without_throwing_and_leaves_the_next_set_for_the_next_wait()
    {
        var signal = new WakeSignal();
        using var cancel = new CancellationTokenSource();
        var waiting = signal.WaitAsync(TimeSpan.FromSeconds(30), cancel.Token);

        await cancel.CancelAsync();

        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(5))); // a SemaphoreSlim would throw TaskCanceledException here
        signal.Set();
        Assert.True(await signal.WaitAsync(TimeSpan.Zero, CancellationToken.None));
    }
}
