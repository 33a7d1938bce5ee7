using System.Net;
using Relay.Smtp.Protocol;

namespace Relay.Inbound;

/// <summary>
/// One admitted session as the listener sees it: who, when it last completed a command, whether a mail
/// transaction is open, and the switch that ends it early (stress-mode idle timeout, room for a new client,
/// descriptors running out). A session with an open transaction is never ended early: it may be about to
/// hand over a message. Activity is counted per completed command line, never per byte, so a client that
/// trickles bytes (slowloris) stays as idle as one that sends nothing.
/// </summary>
public sealed class SessionSlot(IPAddress client)
{
    private readonly CancellationTokenSource _end = new();
    private long _lastActivity = Environment.TickCount64;
    private volatile bool _inTransaction;
    private volatile EndedEarly? _ended;

    /// <summary>Why a session was ended from outside: the reply it gets and the word its record and log line use.</summary>
    public sealed record EndedEarly(SmtpReply Reply, string Reason);

    public IPAddress Client { get; } = client;

    /// <summary>Cancelled when the listener ends the session; the session's command reads watch it.</summary>
    public CancellationToken Ending => _end.Token;

    public EndedEarly? Ended => _ended;

    public bool InTransaction { get => _inTransaction; set { _inTransaction = value; Touch(); } }

    public TimeSpan Idle => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastActivity));

    public void Touch() => Interlocked.Exchange(ref _lastActivity, Environment.TickCount64);

    /// <summary>Ends the session unless it is in a transaction or already ending; true when this call ended it.</summary>
    internal bool TryEnd(SmtpReply reply, string reason)
    {
        if (_inTransaction || _ended is not null) return false;
        _ended = new EndedEarly(reply, reason);
        try { _end.Cancel(); } catch (ObjectDisposedException) { }
        return true;
    }

    internal void Dispose() => _end.Dispose();
}
