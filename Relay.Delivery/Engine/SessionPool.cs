using Microsoft.Extensions.Logging;
using Relay.Delivery.Sessions;

namespace Relay.Delivery.Engine;

/// <summary>
/// Sessions per next hop in this process. At most <see cref="DeliveryOptions.DestinationConcurrency"/> sessions to
/// one next hop exist at once, counting those in use, being opened and parked; a slot is given back only once its
/// connection is closed, so the limit holds on the wire too. A session a batch leaves usable (between
/// transactions) is parked for <see cref="DeliveryOptions.SessionIdle"/> under the <see cref="SessionKey"/> it
/// was opened for, and handed to the next batch with an equal key. A parked session is closed with QUIT when its
/// idle time ends, when its slot is needed for a session of another key, or by <see cref="CloseIdleAsync"/>.
/// </summary>
internal sealed class SessionPool(DeliveryOptions options, ILogger logger)
{
    private readonly object gate = new();
    private readonly Dictionary<string, Destination> destinations = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Task> expiries = [];

    private sealed class Destination
    {
        /// <summary>Sessions counted against the limit: in use, being opened, parked or being closed.</summary>
        public int Slots;
        public readonly List<Parked> Parked = [];
        public TaskCompletionSource Changed = NewSignal();
    }

    /// <summary><see cref="Expiry"/> has no timer and so nothing to release: it is never disposed, because whoever
    /// takes the session cancels it from another thread at any moment.</summary>
    private sealed record Parked(SessionKey Key, EstablishedSession Session, CancellationTokenSource Expiry);

    /// <summary>One counted session to one next hop. <see cref="Reused"/>: a parked session handed over with the slot.</summary>
    public sealed class Slot(string nextHop, EstablishedSession? reused)
    {
        public string NextHop { get; } = nextHop;
        public EstablishedSession? Reused { get; } = reused;
        internal bool Released { get; set; }
    }

    /// <summary>
    /// Waits for a slot to <paramref name="key"/>'s next hop: a parked session with an equal key if there is one,
    /// else a free slot, else the slot of a parked session of another key (closed first).
    /// </summary>
    public async Task<Slot> AcquireAsync(SessionKey key, CancellationToken cancellationToken)
    {
        var limit = Math.Max(1, options.DestinationConcurrency);
        while (true)
        {
            Parked? taken = null;
            var evict = false;
            Task changed;
            lock (gate)
            {
                var d = Get(key.NextHop);
                var match = d.Parked.FindIndex(p => p.Key == key && key.Admits(p.Session));
                if (match >= 0)
                {
                    taken = d.Parked[match];
                    d.Parked.RemoveAt(match);
                }
                else if (d.Slots < limit)
                {
                    d.Slots++;
                    return new Slot(key.NextHop, null);
                }
                else if (d.Parked.Count > 0)
                {
                    // The oldest parked session of another kind gives its slot up (it stays counted while it closes).
                    taken = d.Parked[0];
                    d.Parked.RemoveAt(0);
                    evict = true;
                }
                changed = d.Changed.Task;
            }
            if (taken is not null)
            {
                // Outside the lock: cancelling runs the expiry task's continuation, which may want the lock.
                await taken.Expiry.CancelAsync().ConfigureAwait(false);
                if (!evict) return new Slot(key.NextHop, taken.Session);
                await CloseAsync(taken.Session, quit: true).ConfigureAwait(false);
                return new Slot(key.NextHop, null);
            }
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Gives a slot back. A session left <paramref name="usable"/> (between transactions, peer still there) is
    /// parked for reuse; any other is closed (with QUIT only when usable), and only then is the slot free.
    /// </summary>
    public async Task ReleaseAsync(Slot slot, SessionKey key, EstablishedSession? session, bool usable)
    {
        if (slot.Released) return;
        slot.Released = true;
        if (session is not null && usable && options.SessionIdle > TimeSpan.Zero)
        {
            var parked = new Parked(key, session, new CancellationTokenSource());
            lock (gate)
            {
                var d = Get(slot.NextHop);
                d.Parked.Add(parked);
                Signal(d);
                expiries.RemoveAll(t => t.IsCompleted);
                expiries.Add(ExpireAsync(parked));
            }
            return;
        }
        if (session is not null) await CloseAsync(session, quit: usable).ConfigureAwait(false);
        Free(slot.NextHop);
    }

    /// <summary>Closes every parked session with QUIT now (shutdown, end of a one-shot run) and waits for closings under way.</summary>
    public async Task CloseIdleAsync()
    {
        List<Parked> all;
        Task[] running;
        lock (gate)
        {
            all = destinations.Values.SelectMany(d => d.Parked).ToList();
            foreach (var d in destinations.Values) d.Parked.Clear();
            running = expiries.ToArray();
        }
        foreach (var p in all) await p.Expiry.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(all.Select(async p =>
        {
            await CloseAsync(p.Session, quit: true).ConfigureAwait(false);
            Free(p.Key.NextHop);
        })).ConfigureAwait(false);
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private async Task ExpireAsync(Parked parked)
    {
        try
        {
            await Task.Delay(options.SessionIdle, parked.Expiry.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // taken for reuse, evicted or closed at shutdown: whoever took it owns it now
        }
        lock (gate)
        {
            if (!destinations.TryGetValue(parked.Key.NextHop, out var d) || !d.Parked.Remove(parked)) return;
        }
        logger.LogDebug("{NextHop}: idle session to {Address} closed after {Idle}", parked.Key.NextHop, parked.Key.Target.Address, options.SessionIdle);
        await CloseAsync(parked.Session, quit: true).ConfigureAwait(false);
        Free(parked.Key.NextHop);
    }

    private async Task CloseAsync(EstablishedSession session, bool quit)
    {
        try
        {
            // QUIT has its own short deadline and never waits on a batch's token: the batch may be long gone.
            if (quit) await session.Client.QuitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            logger.LogDebug(e, "closing an idle session");
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Free(string nextHop)
    {
        lock (gate)
        {
            var d = Get(nextHop);
            d.Slots--;
            Signal(d);
            if (d.Slots <= 0 && d.Parked.Count == 0) destinations.Remove(nextHop);
        }
    }

    private Destination Get(string nextHop)
    {
        if (!destinations.TryGetValue(nextHop, out var d))
            destinations[nextHop] = d = new Destination();
        return d;
    }

    /// <summary>Wakes every waiter of this next hop; each looks again (a parked session may fit it, or give up its slot).</summary>
    private static void Signal(Destination d)
    {
        var old = d.Changed;
        d.Changed = NewSignal();
        old.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
