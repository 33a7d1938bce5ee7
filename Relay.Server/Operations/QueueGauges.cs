using System.Diagnostics;
using System.Diagnostics.Metrics;
using Relay.Db;

namespace Relay.Server.Operations;

/// <summary>
/// Queue depth and the oldest waiting message's age, read from PostgreSQL when /metrics is scraped (the queue is
/// shared by every relay process, so any process can answer). When the read fails the gauges report nothing rather
/// than a stale value.
/// </summary>
public sealed class QueueGauges
{
    public const string MeterName = "Relay.Queue";

    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(3);
    private readonly Meter meter = new(MeterName);
    private volatile QueueCounts? last;

    public QueueGauges()
    {
        meter.CreateObservableGauge("recipients", ObserveRecipients, "{recipient}",
            "Recipients waiting in the queue, by state (queued, deferred, held).");
        meter.CreateObservableGauge("messages", () => last is { } q ? [new Measurement<long>(q.Messages)] : Array.Empty<Measurement<long>>(),
            "{message}", "Messages with at least one waiting recipient.");
        meter.CreateObservableGauge("oldest_age_seconds", () => last is { OldestAge: { } age } ? [new Measurement<double>(age.TotalSeconds)] : Array.Empty<Measurement<double>>(),
            "s", "Age of the oldest message with a waiting recipient (absent when the queue is empty).");
    }

    public async Task RefreshAsync(RelayDatabase db, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        try
        {
            last = await db.OverviewReader.GetQueueCountsAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException)
        {
            last = null;
        }
    }

    private IEnumerable<Measurement<long>> ObserveRecipients()
    {
        if (last is not { } q) yield break;
        yield return new Measurement<long>(q.Queued, new TagList { { "state", "queued" } });
        yield return new Measurement<long>(q.Deferred, new TagList { { "state", "deferred" } });
        yield return new Measurement<long>(q.Held, new TagList { { "state", "held" } });
    }
}
