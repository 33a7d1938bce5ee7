using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Relay.Inbound;

/// <summary>
/// The inbound listener's instruments (System.Diagnostics.Metrics; the executable exports every "Relay.*" meter at
/// /metrics). Counted where the listener decides: admission, each refused recipient or message, each durable accept,
/// each session's end. Label values are the words the session record and the log line use, never free text.
/// </summary>
public static class InboundMetrics
{
    public const string MeterName = "Relay.Inbound";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Sessions = Meter.CreateCounter<long>("sessions_total", "{session}",
        "Inbound SMTP sessions that ended, by listener, security reached and end reason.");
    private static readonly UpDownCounter<long> Active = Meter.CreateUpDownCounter<long>("sessions_active", "{session}",
        "Inbound SMTP sessions open now.");
    private static readonly Histogram<double> SessionDuration = Meter.CreateHistogram<double>("session_duration_seconds", "s",
        "Duration of inbound SMTP sessions.");
    private static readonly Counter<long> Refused = Meter.CreateCounter<long>("refused_total", "{event}",
        "Connections, recipients and messages refused, by what was refused and why.");
    private static readonly Counter<long> Accepted = Meter.CreateCounter<long>("accepted_total", "{message}",
        "Messages accepted (durably queued, 250 sent), by listener and security of the session.");
    private static readonly Counter<long> AcceptedRecipients = Meter.CreateCounter<long>("accepted_recipients_total", "{recipient}",
        "Recipients of the accepted messages.");
    private static readonly Counter<long> AcceptedOctets = Meter.CreateCounter<long>("accepted_bytes_total", "By",
        "Octets of the accepted messages, Received: header included.");

    internal static void SessionStarted() => Active.Add(1);

    internal static void SessionEnded(string listener, string security, string endReason, TimeSpan duration)
    {
        Active.Add(-1);
        var tags = new TagList { { "listener", listener }, { "security", security }, { "end", endReason } };
        Sessions.Add(1, tags);
        SessionDuration.Record(duration.TotalSeconds, new TagList { { "listener", listener } });
    }

    /// <param name="what">connection, recipient or message.</param>
    /// <param name="reason">a fixed word: too-many-connections, relay-denied, message-too-big, …</param>
    internal static void Refusal(string what, string reason) =>
        Refused.Add(1, new TagList { { "what", what }, { "reason", reason } });

    internal static void MessageAccepted(string listener, string security, int recipients, long octets)
    {
        var tags = new TagList { { "listener", listener }, { "security", security } };
        Accepted.Add(1, tags);
        AcceptedRecipients.Add(recipients, tags);
        AcceptedOctets.Add(octets, tags);
    }
}
