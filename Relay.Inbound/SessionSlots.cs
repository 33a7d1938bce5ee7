using System.Net;
using Relay.Smtp.Protocol;

namespace Relay.Inbound;

/// <summary>
/// The listener's session slots: the global limit (Relay:Smtp:ConnectionLimit) and the per-client one, and
/// Postfix-style stress mode. Above <see cref="SmtpListenerOptions.StressThresholdPercent"/> of the limit, sessions
/// that have not started a transaction may idle only <see cref="SmtpListenerOptions.StressIdleTimeout"/>
/// (<see cref="Sweep"/>), and when every slot is taken a new client is admitted by ending the longest-idle such
/// session with 421 4.7.0, so silent connections cannot keep a well-behaved client out. A client at its own
/// limit is refused and ends nobody else's session. Slots of ended sessions are freed at once; the socket
/// itself is counted by the listener's descriptor gate until it is really closed.
/// </summary>
public sealed class SessionSlots(SmtpListenerOptions options)
{
    public static readonly SmtpReply TooManyConnections = new(421, "4.7.0", "Error: too many connections");
    public static readonly SmtpReply MadeRoom = new(421, "4.7.0", "Error: server busy; closing idle session to make room for other clients");
    public static readonly SmtpReply OutOfDescriptors = new(421, "4.3.2", "Error: server out of resources; closing idle session, try again later");

    private readonly HashSet<SessionSlot> _slots = [];
    private readonly Dictionary<IPAddress, int> _perClient = [];

    private int _capacity = options.ConnectionLimit;

    public int Count { get { lock (_slots) return _slots.Count; } }

    /// <summary>Sessions that may be open now: ConnectionLimit, or fewer while descriptors are short.</summary>
    public int Capacity { get => Volatile.Read(ref _capacity); set => Volatile.Write(ref _capacity, Math.Clamp(value, 1, options.ConnectionLimit)); }

    public bool InStress { get { lock (_slots) return StressLocked; } }

    private bool StressLocked => (long)_slots.Count * 100 >= (long)Capacity * options.StressThresholdPercent;

    /// <summary>A slot for a new session, or null with the reply to refuse it with and the reason word for metrics.</summary>
    public SessionSlot? Admit(IPAddress client, out SmtpReply? refusal, out string? reason)
    {
        refusal = null;
        reason = null;
        lock (_slots)
        {
            _perClient.TryGetValue(client, out var count);
            if (count >= options.ConnectionLimitPerClient)
            {
                (refusal, reason) = (Replies.TooManyConnections, "client-connection-limit");
                return null;
            }
            if (_slots.Count >= Capacity && EndLongestIdleLocked(1, MadeRoom, "evicted-idle") == 0)
            {
                (refusal, reason) = (TooManyConnections, "connection-limit");
                return null;
            }
            var slot = new SessionSlot(client);
            _slots.Add(slot);
            _perClient[client] = count + 1;
            return slot;
        }
    }

    /// <summary>Frees a slot (idempotent: a slot ended early was already freed).</summary>
    public void Release(SessionSlot slot)
    {
        lock (_slots) RemoveLocked(slot);
        slot.Dispose();
    }

    /// <summary>Stress-mode idle timeout: ends sessions outside a transaction idle for longer than StressIdleTimeout. Returns how many.</summary>
    public int Sweep()
    {
        lock (_slots)
        {
            if (!StressLocked) return 0;
            var ended = 0;
            foreach (var slot in _slots.Where(s => !s.InTransaction && s.Idle > options.StressIdleTimeout).ToList())
                if (slot.TryEnd(Replies.Timeout, "stress-timeout")) { RemoveLocked(slot); ended++; }
            return ended;
        }
    }

    /// <summary>Ends up to <paramref name="count"/> of the longest-idle sessions outside a transaction (descriptors ran out). Returns how many.</summary>
    public int EndLongestIdle(int count, SmtpReply reply, string reason)
    {
        lock (_slots) return EndLongestIdleLocked(count, reply, reason);
    }

    private int EndLongestIdleLocked(int count, SmtpReply reply, string reason)
    {
        var ended = 0;
        if (count <= 0) return 0;
        // One pass; for one victim (the common case: admitting a client when full) a linear scan, no sort.
        var candidates = count == 1
            ? _slots.Where(s => !s.InTransaction && s.Ended is null).MaxBy(s => s.Idle) is { } one ? [one] : new List<SessionSlot>()
            : _slots.Where(s => !s.InTransaction && s.Ended is null).OrderByDescending(s => s.Idle).Take(count).ToList();
        foreach (var slot in candidates)
            if (slot.TryEnd(reply, reason)) { RemoveLocked(slot); ended++; }
        return ended;
    }

    private void RemoveLocked(SessionSlot slot)
    {
        if (!_slots.Remove(slot)) return;
        if (_perClient.TryGetValue(slot.Client, out var count) && count > 1) _perClient[slot.Client] = count - 1;
        else _perClient.Remove(slot.Client);
    }
}
