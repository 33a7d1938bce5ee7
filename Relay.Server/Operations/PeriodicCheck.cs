namespace Relay.Server.Operations;

/// <summary>
/// The loop every health monitor shares: the check once at start, then every <paramref name="interval"/> until
/// disposed. The check itself decides what a failure means; this only runs it on time and stops cleanly.
/// </summary>
public sealed class PeriodicCheck(TimeSpan interval, Func<CancellationToken, Task> check) : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private Task? running;

    public void Start() => running = Task.Run(() => RunAsync(stop.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        do
        {
            await check(cancellationToken).ConfigureAwait(false);
        }
        while (await WaitAsync(timer, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try { return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { return false; }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        if (running is not null)
            try { await running.ConfigureAwait(false); } catch (OperationCanceledException) { }
        stop.Dispose();
    }
}
