using Microsoft.Extensions.Logging;
using Relay.Db;

namespace Relay.Delivery.Engine;

/// <summary>
/// The delivery role's retention (Relay:Delivery:Retention): at start and then every <see cref="DeliveryOptions.RetentionSweepInterval"/>
/// it deletes finished messages, attempt records and inbound session rows older than the retention, in steps of
/// <see cref="StepLimit"/> rows, until a step finds less than a full step left. Without it every delivered message
/// stayed in the database for ever. A failed sweep (the database away) is logged and tried again at the next interval:
/// it delays a deletion, never delivery.
/// </summary>
public sealed class RetentionSweeper(RelayDatabase database, DeliveryOptions options, ILogger logger)
{
    public const int StepLimit = 1000;

    /// <summary>At most this many steps per sweep, so a huge first backlog is spread over several intervals.</summary>
    private const int StepsPerSweep = 100;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await SweepOnceAsync(cancellationToken).ConfigureAwait(false);
            try { await Task.Delay(options.RetentionSweepInterval, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>One sweep: steps until the backlog older than the retention is gone (or the step budget is spent).</summary>
    public async Task<RetentionSweep> SweepOnceAsync(CancellationToken cancellationToken)
    {
        int messages = 0, attempts = 0, sessions = 0;
        try
        {
            for (var step = 0; step < StepsPerSweep && !cancellationToken.IsCancellationRequested; step++)
            {
                var swept = await database.Retention.SweepAsync(options.Retention, StepLimit, cancellationToken).ConfigureAwait(false);
                (messages, attempts, sessions) = (messages + swept.Messages, attempts + swept.Attempts, sessions + swept.InboundSessions);
                if (swept.Messages < StepLimit && swept.Attempts < StepLimit && swept.InboundSessions < StepLimit) break;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("retention: sweep failed ({Error}); trying again in {Interval}", e.Message, options.RetentionSweepInterval);
        }
        var total = new RetentionSweep(messages, attempts, sessions);
        if (total.Total > 0)
            logger.LogInformation("retention: deleted {Messages} finished message(s), {Attempts} attempt record(s) and {Sessions} inbound session row(s) older than {Retention}",
                messages, attempts, sessions, options.Retention);
        return total;
    }
}
