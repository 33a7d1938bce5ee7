namespace Relay.Inbound;

/// <summary>
/// The memory all sessions together may hold in message content (Relay:Smtp:DataMemoryLimit). Content is buffered
/// until it is committed, so without this the bound would be sessions × message size; with it, a message that would
/// pass the budget is read to its end and refused with 451 4.3.1 (try later), and the session carries on.
/// </summary>
public sealed class DataMemory(long limit)
{
    private long _inUse;
    private long _peak;

    public long Limit { get; } = limit;
    public long InUse => Interlocked.Read(ref _inUse);
    public long Peak => Interlocked.Read(ref _peak);

    public bool TryReserve(long octets)
    {
        while (true)
        {
            var current = Interlocked.Read(ref _inUse);
            if (current + octets > Limit) return false;
            if (Interlocked.CompareExchange(ref _inUse, current + octets, current) != current) continue;
            var now = current + octets;
            long peak;
            while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak) { }
            return true;
        }
    }

    public void Release(long octets)
    {
        if (octets > 0) Interlocked.Add(ref _inUse, -octets);
    }
}
