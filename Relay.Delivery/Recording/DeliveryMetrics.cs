using System.Diagnostics;
using System.Diagnostics.Metrics;
using Relay.Db;
using Relay.Policy;
using Relay.Policy.Planning;

namespace Relay.Delivery.Recording;

/// <summary>
/// Delivery's instruments (System.Diagnostics.Metrics; the executable exports every "Relay.*" meter). Attempts are
/// counted from the row <see cref="AttemptRows"/> built, when <see cref="AttemptLog"/> writes it, so the labels are the
/// classifier's own <c>.ToWire()</c> words as stored, and a metric, a log line and `relay queue show` never disagree.
/// </summary>
public static class DeliveryMetrics
{
    public const string MeterName = "Relay.Delivery";

    /// <summary>The label value of an attempt that sent nothing: it has no transport (DESIGN.md § Security vocabulary).</summary>
    public const string NothingSent = "nothing-sent";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Attempts = Meter.CreateCounter<long>("attempts_total", "{attempt}",
        "Delivery attempts recorded, by transport (nothing-sent when no message was carried), how, stage, result type and network.");
    private static readonly Histogram<double> AttemptDuration = Meter.CreateHistogram<double>("attempt_duration_seconds", "s",
        "Duration of recorded delivery attempts.");
    private static readonly Counter<long> Recipients = Meter.CreateCounter<long>("recipients_total", "{recipient}",
        "Recipient outcomes recorded by delivery: delivered, deferred or bounced.");
    private static readonly Counter<long> SessionsOpened = Meter.CreateCounter<long>("sessions_total", "{session}",
        "Outbound SMTP sessions opened (reused sessions are not counted again).");
    private static readonly Counter<long> TlsaLookups = Meter.CreateCounter<long>("tlsa_lookups_total", "{peer}",
        "TLSA lookups of planned peers, by their DNSSEC status (secure, secure-empty, insecure, bogus, error, not-queried).");

    /// <summary>One recorded attempt row.</summary>
    internal static void Attempt(AttemptRecord row)
    {
        var tags = new TagList
        {
            { "transport", row.Transport ?? NothingSent },
            { "how", row.How },
            { "stage", row.Stage },
            { "result_type", row.ResultType ?? "none" },
            { "network", row.Network },
        };
        Attempts.Add(1, tags);
        AttemptDuration.Record(row.Duration.TotalSeconds, new TagList { { "transport", row.Transport ?? NothingSent } });
    }

    /// <summary>Each recipient's final word for this attempt (RecipientResults' wire words).</summary>
    internal static void Recipient(string result) => Recipients.Add(1, new TagList { { "result", result } });

    internal static void SessionOpened() => SessionsOpened.Add(1);

    /// <summary>The TLSA status of every peer a plan names, counted once per plan.</summary>
    internal static void Planned(DeliveryPlan plan)
    {
        foreach (var peer in plan.Peers)
            TlsaLookups.Add(1, new TagList { { "status", peer.TlsaStatus.ToWire() } });
    }
}
