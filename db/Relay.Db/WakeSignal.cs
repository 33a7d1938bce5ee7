namespace Relay.Db;

/// <summary>
/// A wake-up that any number of <see cref="Set"/> calls raise once and one <see cref="WaitAsync"/> consumes, and whose
/// wait ends on a timeout or a cancellation by returning false, never by throwing. The delivery loop waits on two of
/// these at once (a NOTIFY, a finished batch) and ends the losing wait at once: with SemaphoreSlim that was one
/// TaskCanceledException per idle wait, 12–24 a second under load (dotnet-counters, bench/README.md).
/// </summary>
public sealed class WakeSignal
{
    private readonly object gate = new();
    private TaskCompletionSource raised = NewRaised();

    /// <summary>Raises the signal; a no-op when it is raised already.</summary>
    public void Set()
    {
        lock (gate) raised.TrySetResult();
    }

    /// <summary>
    /// True when the signal was raised (now or within <paramref name="timeout"/>), and then it is consumed; false after the
    /// timeout or when <paramref name="cancellationToken"/> is cancelled first.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task current;
        lock (gate) current = raised.Task;
        if (!current.IsCompleted && (timeout > TimeSpan.Zero || timeout == Timeout.InfiniteTimeSpan) && !cancellationToken.IsCancellationRequested)
        {
            using var delayEnd = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // Task.WhenAny completes with whichever ends first and never throws; the delay, cancelled below when the signal
            // won, ends as a cancelled task nobody awaits (no exception is thrown for that).
            await Task.WhenAny(current, Task.Delay(timeout, delayEnd.Token)).ConfigureAwait(false);
            delayEnd.Cancel();
        }
        lock (gate)
        {
            if (!raised.Task.IsCompleted) return false;
            raised = NewRaised();
            return true;
        }
    }

    private static TaskCompletionSource NewRaised() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
