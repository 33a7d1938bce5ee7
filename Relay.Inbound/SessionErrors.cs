namespace Relay.Inbound;

/// <summary>
/// Postfix's per-session error limits (smtpd.c, smtpd_chat.c), kept the way Postfix keeps them so operators can carry
/// their numbers over. Every refused command is an error (counted after its reply, as Postfix does); HELO, EHLO, RSET,
/// NOOP, VRFY and HELP are "junk" that costs nothing until <see cref="SmtpListenerOptions.JunkCommandLimit"/> of them,
/// after which each one is an error too. Once the errors reach <see cref="SmtpListenerOptions.SoftErrorLimit"/>, every
/// reply is delayed by <see cref="SmtpListenerOptions.ErrorSleep"/>; at <see cref="SmtpListenerOptions.ErrorLimit"/>
/// (smtpd_hard_error_limit) the session gets 421 4.7.0 before its next command is read. A message accepted forgives
/// everything so far. Under stress (the listener near its connection limit) the hard and junk limits drop to 1, as
/// Postfix's `${stress?{1}:{20}}` and `${stress?{1}:{100}}` defaults do. Like Postfix, no client is exempt: trusted
/// networks make errors too, and a client that needs a hundred NOOPs per message is broken wherever it comes from.
/// </summary>
internal sealed class SessionErrors(SmtpListenerOptions options, Func<bool> inStress)
{
    private int _junk;

    public int Count { get; private set; }

    public void Error() => Count++;

    /// <summary>A junk command was answered (Postfix: `if (junk_cmds++ > limit) error_count++`).</summary>
    public void Junk()
    {
        if (_junk++ > JunkLimit) Count++;
    }

    /// <summary>A message was accepted: earlier mistakes are forgiven (Postfix resets both counters after a queued message).</summary>
    public void Forgive() => (Count, _junk) = (0, 0);

    // No error, no question asked: the stress check takes the listener's lock.
    public bool OverHardLimit => Count > 0 && Count >= HardLimit;

    /// <summary>How long to wait before the next reply: smtpd_error_sleep_time once the soft limit is reached.</summary>
    public TimeSpan ReplyDelay => Count >= options.SoftErrorLimit ? options.ErrorSleep : TimeSpan.Zero;

    private int HardLimit => inStress() ? Math.Min(1, options.ErrorLimit) : options.ErrorLimit;

    private int JunkLimit => inStress() ? Math.Min(1, options.JunkCommandLimit) : options.JunkCommandLimit;
}
