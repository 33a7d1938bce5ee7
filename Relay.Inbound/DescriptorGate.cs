using Microsoft.Win32.SafeHandles;

namespace Relay.Inbound;

/// <summary>
/// Bounds the sockets the listener holds, so a flood waits in the kernel's backlog instead of using up the process's
/// descriptors. This matters beyond accept(2): with no descriptor free, .NET cannot start a thread (it reports that
/// as OutOfMemoryException, and one thrown in the thread pool's or Kestrel's own threads aborts the process with
/// "Out of memory."), and PostgreSQL connections, log files and DNS sockets fail too.
///
/// Every accepted socket holds a place from just before accept until it is closed: admitted sessions (at most
/// ConnectionLimit) plus <see cref="RefusalAllowance"/> for connections being told 421. On top of that the gate keeps
/// a ceiling: once a second (<see cref="Refresh"/>) it counts the descriptors the rest of the process has open and
/// lets the listener hold only what leaves <see cref="SmtpListenerOptions.KeepFreeDescriptors"/> free under the
/// open-file limit. When accept fails with EMFILE/ENFILE anyway, it lets go of a small reserve of descriptors at once
/// (so the rest of the process can work), recomputes the ceiling, and the listener sheds idle sessions above it.
/// </summary>
internal sealed class DescriptorGate : IDisposable
{
    public const int RefusalAllowance = 64;
    public const int ReserveSize = 16;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan RoomPoll = TimeSpan.FromMilliseconds(2);

    private readonly SemaphoreSlim _places;
    private readonly int _keepFree;
    private readonly List<SafeFileHandle> _reserve = [];
    private readonly Lock _lock = new();
    private int _held;
    private int _ceiling = int.MaxValue;

    public DescriptorGate(int connectionLimit, int keepFree)
    {
        _places = new SemaphoreSlim(connectionLimit + RefusalAllowance);
        _keepFree = keepFree;
        TakeReserve();
    }

    public int Held => Volatile.Read(ref _held);

    /// <summary>The most sockets the listener may hold now (null: the open-file limit cannot be read, no ceiling).</summary>
    public int? Ceiling { get { var c = Volatile.Read(ref _ceiling); return c == int.MaxValue ? null : c; } }

    /// <summary>Waits for a place for one more socket (call before accept).</summary>
    /// <param name="makeRoom">Called while the gate is at its ceiling: may end an idle session when a client is waiting (true).</param>
    public async Task EnterAsync(Func<bool> makeRoom, CancellationToken cancellationToken)
    {
        await _places.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A session that was ended closes its socket within milliseconds; without one, look again a little later.
            while (Volatile.Read(ref _held) >= Volatile.Read(ref _ceiling))
                await Task.Delay(makeRoom() ? RoomPoll : Poll, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _places.Release();
            throw;
        }
        Interlocked.Increment(ref _held);
    }

    /// <summary>Gives a place back (the socket was closed, or accept failed).</summary>
    public void Leave()
    {
        Interlocked.Decrement(ref _held);
        _places.Release();
    }

    /// <summary>
    /// Recomputes the ceiling from the open-file limit and the descriptors open now; returns how many sockets the
    /// listener holds above it (to shed). Takes the reserve back once there is room for it.
    /// </summary>
    public int Refresh(long? limit, Func<int?> openNow)
    {
        lock (_lock)
        {
            if (limit is not long max) { _ceiling = int.MaxValue; return 0; }
            if (openNow() is not int open)
            {
                // Could not even open /proc/self/fd: no descriptor free at all. Free the reserve and count again.
                FreeReserve();
                if (openNow() is not int retried) return 0;
                open = retried;
            }
            var held = Volatile.Read(ref _held);
            var others = Math.Max(0, open - held - _reserve.Count);
            var ceiling = max - others - _reserve.Count - _keepFree;
            if (ceiling - held > ReserveSize && _reserve.Count < ReserveSize) { TakeReserve(); ceiling -= ReserveSize; }
            _ceiling = (int)Math.Clamp(ceiling, 1, int.MaxValue - 1);
            return Math.Max(0, held - _ceiling);
        }
    }

    /// <summary>accept failed for want of descriptors: free the reserve, recompute. Returns how many sockets to shed.</summary>
    public int OutOfDescriptors(long? limit, Func<int?> openNow)
    {
        lock (_lock) FreeReserve();
        var shed = Refresh(limit, openNow);
        // Whatever the count says, stop taking sockets until some have been closed.
        lock (_lock) _ceiling = Math.Min(_ceiling, Math.Max(1, Volatile.Read(ref _held) - 1));
        return shed;
    }

    private void FreeReserve()
    {
        foreach (var handle in _reserve) handle.Dispose();
        _reserve.Clear();
    }

    private void TakeReserve()
    {
        try
        {
            while (_reserve.Count < ReserveSize) _reserve.Add(File.OpenHandle("/dev/null"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // still short: taken next time
    }

    public void Dispose()
    {
        lock (_lock) FreeReserve();
        _places.Dispose();
    }
}
