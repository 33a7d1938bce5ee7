using Microsoft.Extensions.Logging;

namespace Relay.Delivery.TlsRpt;

/// <summary>
/// The delivery role's daily round: once a UTC day has ended (after 00:00Z), yesterday's reports are sent. Every
/// <see cref="TlsRptOptions.SchedulePoll"/> it looks again, so a process started later in the day, or a report whose
/// destinations all failed, still goes out that day; the ledger (tlsrpt_reports) keeps several processes from sending
/// one report twice. Domains answered for good this day (sent, nothing to report, no record) are not asked again.
/// </summary>
public sealed class TlsRptSchedule(TlsRptSender sender, TlsRptOptions options, ILogger logger, TimeProvider? clock = null)
{
    private readonly TimeProvider time = clock ?? TimeProvider.System;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var settled = new HashSet<string>(StringComparer.Ordinal);
        var settledDay = DateOnly.MinValue;
        while (!cancellationToken.IsCancellationRequested)
        {
            var yesterday = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).AddDays(-1);
            if (yesterday != settledDay) (settled, settledDay) = (new HashSet<string>(StringComparer.Ordinal), yesterday);
            try
            {
                var domains = await sender.Database.TlsRptReader.DomainsAsync(yesterday, cancellationToken).ConfigureAwait(false);
                var pending = domains.Where(d => !settled.Contains(d)).ToList();
                if (pending.Count > 0)
                    foreach (var result in await sender.SendDayAsync(yesterday, pending, cancellationToken).ConfigureAwait(false))
                        if (result.Status != TlsRptSendStatus.Failed) settled.Add(result.Domain);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException)
            {
                logger.LogWarning("tlsrpt: the round for {Day:yyyy-MM-dd} failed ({Error}); trying again in {Poll}", yesterday, e.Message, options.SchedulePoll);
            }
            try { await Task.Delay(options.SchedulePoll, time, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }
}
