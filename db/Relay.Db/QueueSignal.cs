using Npgsql;

namespace Relay.Db;

/// <summary>
/// LISTEN relay_queue on a dedicated connection, so an idle delivery worker wakes as soon as a message
/// is committed instead of polling. Reconnects after a lost connection; a missed NOTIFY only costs the
/// caller its next timed wake-up, never a message.
/// </summary>
public sealed class QueueSignal : IAsyncDisposable
{
    private readonly NpgsqlDataSource dataSource;
    private readonly WakeSignal signalled = new();
    private readonly CancellationTokenSource stop = new();
    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task loop;

    internal QueueSignal(NpgsqlDataSource dataSource)
    {
        this.dataSource = dataSource;
        loop = Task.Run(ListenLoopAsync);
    }

    /// <summary>Completes once LISTEN is in effect (tests wait for it before enqueueing).</summary>
    public Task Listening => listening.Task;

    /// <summary>True when a notification arrived within <paramref name="timeout"/>; false after it or on cancellation (no exception).</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        signalled.WaitAsync(timeout, cancellationToken);

    private async Task ListenLoopAsync()
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stop.Token).ConfigureAwait(false);
                connection.Notification += (_, _) => Release();
                await using (var listen = new NpgsqlCommand($"listen {RelayDatabase.QueueChannel}", connection))
                    await listen.ExecuteNonQueryAsync(stop.Token).ConfigureAwait(false);
                listening.TrySetResult();
                Release(); // anything enqueued while we were not listening is picked up now
                backoff = TimeSpan.FromMilliseconds(100);
                while (!stop.IsCancellationRequested)
                    await connection.WaitAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                Release();
                try { await Task.Delay(backoff, stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>One wake-up covers any number of enqueues (a SemaphoreSlim here once threw SemaphoreFullException per NOTIFY).</summary>
    private void Release() => signalled.Set();

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        try { await loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
        stop.Dispose();
    }
}
