using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Delivery.Engine;
using Relay.Delivery.Ipsec;
using Relay.Delivery.Planning;
using Relay.Dns;

namespace Relay.Delivery;

/// <summary>
/// The delivery role of `relay serve`: claims due recipients (leases, SKIP LOCKED), wakes on NOTIFY and
/// on the next due time, and delivers each next hop's batch with up to <see cref="DeliveryOptions.Workers"/>
/// hops in parallel (and at most <see cref="DeliveryOptions.DestinationConcurrency"/> sessions to one next hop;
/// sessions left usable are reused by the next batch to that hop within <see cref="DeliveryOptions.SessionIdle"/>). Any number of processes may run against one database. On stop it claims nothing
/// more and gives running sessions <see cref="DeliveryOptions.DrainTimeout"/> to finish; anything left
/// comes back when its lease expires. It also sweeps what is older than the retention (<see cref="RetentionSweeper"/>).
/// </summary>
public sealed class DeliveryRole
{
    private readonly DeliveryOptions options;
    private readonly RelayDatabase database;
    private readonly ILogger logger;
    private readonly HopDelivery hops;

    /// <param name="dns">Resolver to use; by default one over <see cref="DeliveryOptions.DnsServers"/> (none → routes only).</param>
    /// <param name="network">The network layer; by default the IPsec sidecar when Relay:Ipsec:Enabled, else none.</param>
    public DeliveryRole(DeliveryOptions options, RelayDatabase database, ILogger logger, IDnsResolver? dns = null, INetworkLayer? network = null)
    {
        this.options = options;
        this.database = database;
        this.logger = logger;
        var resolver = dns ?? CreateResolver(options);
        hops = new HopDelivery(database, new HopPlanner(resolver, database, options), options, logger,
            network ?? CreateNetworkLayer(options, database, logger, resolver));
    }

    /// <summary>The sidecar client over the database's classes (IPSECKEY through <paramref name="dns"/>), or nothing when IPsec is not enabled.</summary>
    public static INetworkLayer CreateNetworkLayer(DeliveryOptions options, RelayDatabase database, ILogger logger, IDnsResolver? dns = null) =>
        options.Ipsec.Enabled
            ? new IpsecSidecar(options.Ipsec, async ct => IpsecClassTable.FromRows(
                (await database.Policies.ListIpsecAsync(ct).ConfigureAwait(false)).Select(r => (r.Prefix, r.Class))), logger, dns: dns)
            : DisabledNetworkLayer.Instance;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var signal = database.ListenForQueue();
        using var drain = new CancellationTokenSource();
        await using var registration = cancellationToken.Register(() => drain.CancelAfter(options.DrainTimeout)).ConfigureAwait(false);
        logger.LogInformation("delivery: started as {Worker} with {Workers} worker(s), at most {Limit} session(s) per next hop, idle sessions kept {Idle}",
            options.WorkerId, options.Workers, options.DestinationConcurrency, options.SessionIdle);
        // A slot per worker. Claims happen whenever a slot is free, so one slow next hop (a tarpit, five
        // dead MX hosts) holds one worker, never the whole queue.
        using var slots = new SemaphoreSlim(options.Workers, options.Workers);
        // A finished batch may have deferred recipients due sooner than the idle poll: it wakes the loop.
        var batchDone = new WakeSignal();
        var running = new List<Task>();
        using var stopSweeping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sweeping = new RetentionSweeper(database, options, logger).RunAsync(stopSweeping.Token);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                running.RemoveAll(t => t.IsCompleted);
                IReadOnlyList<NextHopBatch> batches;
                try
                {
                    batches = await database.Queue.ClaimAsync(options.ClaimBatch, options.Lease, options.WorkerId, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException)
                {
                    slots.Release();
                    // An outage repeats this every second: one line with the cause, not a stack trace each time.
                    logger.LogWarning("delivery: claim failed ({Error}); retrying in 1 s", e.Message);
                    await SleepAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (batches.Count == 0)
                {
                    slots.Release();
                    await WaitForWorkAsync(signal, batchDone, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                // A claim that got less than it asked for left nothing due behind it: wait for the next NOTIFY, finished batch
                // or due time instead of claiming again at once (that claim came back empty: one round trip per wake-up).
                var drained = batches.Sum(b => b.Recipients.Count) < Math.Max(1, options.ClaimBatch);
                for (var i = 0; i < batches.Count; i++)
                {
                    // The first batch uses the slot taken above; the others wait for theirs (their leases are long).
                    if (i > 0) await slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                    var batch = batches[i];
                    running.Add(Task.Run(async () =>
                    {
                        var settled = false;
                        try { settled = await DeliverSafelyAsync(batch, drain.Token).ConfigureAwait(false); }
                        finally
                        {
                            slots.Release();
                            // Only a batch that left something due again (a retry, a lease to expire) can make work sooner
                            // than the loop's wait: waking for every delivered batch cost an empty claim and a next-due
                            // query per message on a lightly loaded queue (bench/README.md, latency).
                            if (!settled) batchDone.Set();
                        }
                    }, CancellationToken.None));
                }
                if (drained) await WaitForWorkAsync(signal, batchDone, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        // Drain: sessions in flight finish (or are cut at DrainTimeout); unfinished recipients return after their lease.
        await Task.WhenAll(running).ConfigureAwait(false);
        await stopSweeping.CancelAsync().ConfigureAwait(false);
        await sweeping.ConfigureAwait(false);
        await hops.CloseIdleSessionsAsync().ConfigureAwait(false);
        logger.LogInformation("delivery: stopped");
    }

    /// <summary>Claims once and delivers what was due; returns the number of recipients claimed (for tests and `relay queue` tooling).</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var batches = await database.Queue.ClaimAsync(options.ClaimBatch, options.Lease, options.WorkerId, cancellationToken).ConfigureAwait(false);
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = options.Workers },
            async (batch, _) => await DeliverSafelyAsync(batch, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        // A one-shot run leaves nothing open behind it.
        await hops.CloseIdleSessionsAsync().ConfigureAwait(false);
        return batches.Sum(b => b.Recipients.Count);
    }

    /// <summary>True when the batch left nothing due again; false after a failure (its recipients return after the lease).</summary>
    private async Task<bool> DeliverSafelyAsync(NextHopBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            return await hops.DeliverAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("delivery: {NextHop} interrupted by shutdown; its recipients return when the lease expires", batch.NextHop);
        }
        catch (Exception e)
        {
            // The recipients stay leased and come back after the lease: a bug here delays mail, never loses it.
            logger.LogError(e, "delivery: {NextHop} failed unexpectedly", batch.NextHop);
        }
        return false;
    }

    private async Task WaitForWorkAsync(QueueSignal signal, WakeSignal batchDone, CancellationToken cancellationToken)
    {
        try
        {
            var next = await database.Queue.NextDueAsync(cancellationToken).ConfigureAwait(false);
            var wait = next is null ? options.IdlePoll : next.Value - DateTimeOffset.UtcNow;
            wait = wait < TimeSpan.FromMilliseconds(20) ? TimeSpan.FromMilliseconds(20) : wait > options.IdlePoll ? options.IdlePoll : wait;
            using var woken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var notified = signal.WaitAsync(wait, woken.Token);
            var finished = batchDone.WaitAsync(wait, woken.Token);
            await Task.WhenAny(notified, finished).ConfigureAwait(false);
            // Ends the other wait at once. Neither throws for that (they answer false), so an idle wait costs no exception;
            // a signal consumed by either is not lost: the loop claims right after this returns.
            await woken.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(notified, finished).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
        catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException)
        {
            logger.LogWarning("delivery: next-due query failed ({Error}); retrying in 1 s", e.Message);
            await SleepAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task SleepAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try { await Task.Delay(delay, cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }

    private static IDnsResolver? CreateResolver(DeliveryOptions options) =>
        options.DnsServers.Count == 0 ? null : new DnsResolver(options.DnsServers.Select(e => new DnsServer(e, Trusted: true)).ToList());
}
