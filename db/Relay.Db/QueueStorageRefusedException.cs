using Npgsql;

namespace Relay.Db;

/// <summary>
/// The queue database refused to store a message for want of resources rather than for a transient fault: its disk is
/// full (SQLSTATE 53100), it is out of memory or another resource (53000, 53200, 53400), or it takes no writes (25006,
/// a read-only database or a standby after failover). The listener answers these `452 4.3.1` (RFC 5321 §4.2.3
/// "insufficient system storage", RFC 3463 "mail system full") with <see cref="Cause"/>, and keeps `451` for the rest.
/// 53300 too_many_connections is left out: it says nothing about storage, and the next connection may well be had.
/// </summary>
public sealed class QueueStorageRefusedException(string cause, Exception inner) : Exception($"the queue database refused the write: {cause}", inner)
{
    /// <summary>Words safe to show a client: the kind of refusal, never the SQL or the server's message.</summary>
    public string Cause { get; } = cause;

    /// <summary>The cause for a refusal that is one of these, else null.</summary>
    internal static string? CauseOf(Exception e) => (e as PostgresException)?.SqlState switch
    {
        PostgresErrorCodes.DiskFull => "queue storage full",
        PostgresErrorCodes.OutOfMemory => "queue database out of memory",
        PostgresErrorCodes.InsufficientResources or PostgresErrorCodes.ConfigurationLimitExceeded => "queue database out of resources",
        PostgresErrorCodes.ReadOnlySqlTransaction => "queue database read-only",
        _ => null,
    };
}
