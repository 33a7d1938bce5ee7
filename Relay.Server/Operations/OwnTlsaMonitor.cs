using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Db.Web;
using Relay.Policy.Dane;
using Relay.Server.Configuration;

namespace Relay.Server.Operations;

/// <summary>
/// The smtp role's watch on our own DANE record: at start-up and every hour, does a DNSSEC-secure TLSA RRset for our
/// hostname still match our certificate? A problem (mismatch, bogus, lookup failure) is a warning in the log, in
/// <c>relay_smtp_own_tlsa</c>, in /readyz's detail and (through own_tlsa_checks) on the web overview page of any web
/// process; it never stops the listener (mail without DANE still arrives).
/// </summary>
public sealed class OwnTlsaMonitor : IAsyncDisposable
{
    public const string MeterName = "Relay.Smtp";
    public const string HealthCheck = "own-tlsa";
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    private static readonly Meter Meter = new(MeterName);
    private static volatile OwnTlsaResult? current;

    static OwnTlsaMonitor() =>
        Meter.CreateObservableGauge("own_tlsa", Observe, "{check}",
            "1 for the verdict of the last check of our own TLSA record (matches, mismatch, not-published, insecure, bogus, error).");

    private readonly RelayConfig config;
    private readonly RelayDatabase db;
    private readonly ServerHealth health;
    private readonly ILogger logger;
    private readonly PeriodicCheck loop;

    public OwnTlsaMonitor(RelayConfig config, RelayDatabase db, ServerHealth health, ILogger logger)
    {
        (this.config, this.db, this.health, this.logger) = (config, db, health, logger);
        loop = new PeriodicCheck(Interval, CheckOnceAsync);
    }

    public void Start() => loop.Start();

    internal async Task CheckOnceAsync(CancellationToken cancellationToken)
    {
        OwnTlsaResult result;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            result = await OwnTlsaProbe.CheckAsync(config, OwnTlsaProbe.CertificatePath(config), deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or OperationCanceledException)
        {
            result = new OwnTlsaResult(OwnTlsaVerdict.Error, Policy.Dane.OwnTlsaCheck.Owner(config.Hostname), $"could not check: {e.Message}");
        }
        current = result;
        if (result.IsProblem)
        {
            health.Warn(HealthCheck, $"{result.Owner}: {result.VerdictWord}: {result.Detail}");
            logger.LogWarning("own TLSA record {Owner}: {Verdict}: {Detail}", result.Owner, result.VerdictWord, result.Detail);
        }
        else
        {
            health.Clear(HealthCheck);
            logger.LogInformation("own TLSA record {Owner}: {Verdict}: {Detail}", result.Owner, result.VerdictWord, result.Detail);
        }
        await RecordAsync(result, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>For the web overview; a database outage costs only that (the log, metric and /readyz already say it).</summary>
    private async Task RecordAsync(OwnTlsaResult result, CancellationToken cancellationToken)
    {
        try
        {
            await db.OwnTlsa.SaveAsync(new OwnTlsaRow(result.Owner, result.VerdictWord, result.IsProblem, result.Detail, DateTimeOffset.UtcNow),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            logger.LogWarning("own TLSA record {Owner}: could not record the check for the web overview: {Error}", result.Owner, e.Message);
        }
    }

    private static IEnumerable<Measurement<int>> Observe()
    {
        if (current is not { } result) yield break;
        foreach (var verdict in Enum.GetValues<OwnTlsaVerdict>())
            yield return new Measurement<int>(verdict == result.Verdict ? 1 : 0, new TagList { { "verdict", OwnTlsaCheck.ToWire(verdict) } });
    }

    public ValueTask DisposeAsync() => loop.DisposeAsync();
}
