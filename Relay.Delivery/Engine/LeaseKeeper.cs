using Microsoft.Extensions.Logging;
using Relay.Db;

namespace Relay.Delivery.Engine;

/// <summary>
/// Keeps a claimed batch's leases alive while its sessions run: a big batch to a slow peer can take longer
/// than one lease, and a lapsed lease lets another worker (or this one) deliver the same recipients again.
/// Renews every third of the lease; when a renewal shows a lease was lost (the process stalled, the database
/// was away too long), <see cref="Token"/> is cancelled so no further transaction starts on borrowed time.
/// </summary>
internal sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly RelayDatabase database;
    private readonly DeliveryOptions options;
    private readonly ILogger logger;
    private readonly string nextHop;
    private readonly HashSet<long> pending;
    private bool deferred;
    private readonly CancellationTokenSource lost;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public LeaseKeeper(RelayDatabase database, DeliveryOptions options, ILogger logger, NextHopBatch batch, CancellationToken cancellationToken)
    {
        this.database = database;
        this.options = options;
        this.logger = logger;
        nextHop = batch.NextHop;
        pending = batch.Recipients.Select(r => r.RecipientId).ToHashSet();
        lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        loop = Task.Run(RenewLoopAsync);
    }

    /// <summary>Cancelled when the caller stops or a lease of this batch was lost.</summary>
    public CancellationToken Token => lost.Token;

    /// <summary>Call just before recording these recipients' outcome: their leases need no renewing.
    /// <paramref name="final"/>: every one of them is delivered or bounced (none deferred).</summary>
    public void Done(IEnumerable<long> recipientIds, bool final)
    {
        lock (pending)
        {
            pending.ExceptWith(recipientIds);
            if (!final) deferred = true;
        }
    }

    /// <summary>
    /// Every recipient of the batch got a final outcome: the batch leaves nothing that falls due again (no retry, no
    /// lease to expire), so the delivery loop need not look for work because of it.
    /// </summary>
    public bool Settled
    {
        get { lock (pending) return pending.Count == 0 && !deferred; }
    }

    private async Task RenewLoopAsync()
    {
        var interval = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(200).Ticks, options.Lease.Ticks / 3));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stop.Token).ConfigureAwait(false);
                long[] asked;
                lock (pending) asked = pending.ToArray();
                if (asked.Length == 0) continue;
                var renewed = (await database.Queue.RenewLeasesAsync(asked, options.Lease, options.WorkerId, stop.Token).ConfigureAwait(false)).ToHashSet();
                int missing;
                // An id recorded while we renewed left `pending` first (Done precedes recording): not lost.
                lock (pending) missing = asked.Count(id => pending.Contains(id) && !renewed.Contains(id));
                if (missing > 0)
                {
                    logger.LogWarning("{NextHop}: {Count} lease(s) lost mid-session; stopping this batch so nothing is delivered twice", nextHop, missing);
                    await lost.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException)
            {
                // The lease still runs for two more intervals; the next renewal may succeed.
                logger.LogWarning(e, "{NextHop}: lease renewal failed", nextHop);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        stop.Dispose();
        lost.Dispose();
    }
}
