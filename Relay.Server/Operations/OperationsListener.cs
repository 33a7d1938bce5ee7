using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using Relay.Db;

namespace Relay.Server.Operations;

/// <summary>
/// <c>Relay:Metrics:Listen</c> of every `relay serve` process: <c>/metrics</c> (Prometheus text format: the "Relay.*"
/// System.Diagnostics.Metrics instruments through prometheus-net's meter adapter, plus process metrics),
/// <c>/healthz</c> (the process answers) and <c>/readyz</c> (the database answers; warnings in the detail).
/// </summary>
public sealed class OperationsListener : IAsyncDisposable
{
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
    private static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(3);
    private static readonly Lock ConfigureOnce = new();
    private static bool configured;
    private readonly WebApplication app;

    private OperationsListener(WebApplication app) => this.app = app;

    public IReadOnlyList<string> Urls =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    public static async Task<OperationsListener> StartAsync(IPEndPoint endpoint, RelayDatabase db, ServerHealth health, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        ConfigurePrometheus();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(endpoint);
        });
        var app = builder.Build();
        var queue = new QueueGauges();
        // The queue gauges are read from the database just before prometheus-net collects.
        app.Use(async (context, next) =>
        {
            if (context.Request.Path == "/metrics")
                await queue.RefreshAsync(db, context.RequestAborted);
            await next(context);
        });
        app.MapMetrics("/metrics");
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (CancellationToken aborted) => await ReadinessAsync(db, health, aborted));
        await app.StartAsync(cancellationToken);
        return new OperationsListener(app);
    }

    private static async Task<IResult> ReadinessAsync(RelayDatabase db, ServerHealth health, CancellationToken aborted)
    {
        string database;
        var ready = true;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(ReadinessTimeout);
        try
        {
            await db.CheckReachableAsync(timeout.Token);
            database = "ok";
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException)
        {
            ready = false;
            database = e is OperationCanceledException ? $"unreachable: no answer within {ReadinessTimeout.TotalSeconds:0} s" : $"unreachable: {e.Message}";
        }
        var body = JsonSerializer.Serialize(new
        {
            status = ready ? "ready" : "not-ready",
            database,
            checks = health.Passed,
            warnings = health.Warnings,
        });
        return Results.Text(body + "\n", "application/json", statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>prometheus-net's default registry, set up before its first use: Relay's meters only (not every library's),
    /// and the longest expiry it allows (a day: our label values are a fixed vocabulary, and an expired counter restarts
    /// from zero). One collection at once starts its meter listener, which it would otherwise start at the first scrape,
    /// losing everything counted before.</summary>
    private static void ConfigurePrometheus()
    {
        lock (ConfigureOnce)
        {
            if (configured) return;
            Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressEventCounters = true, SuppressDebugMetrics = true });
            Metrics.ConfigureMeterAdapter(options =>
            {
                options.InstrumentFilterPredicate = instrument => instrument.Meter.Name.StartsWith("Relay.", StringComparison.Ordinal);
                options.MetricsExpireAfter = TimeSpan.FromDays(1);
                // Durations here run from milliseconds (DNS, a refused connect) to minutes (a slow DATA); the default
                // doubling series from 10 ms has 27 buckets per label set.
                options.ResolveHistogramBuckets = _ => DurationBuckets;
            });
            Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null).GetAwaiter().GetResult();
            configured = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await app.StopAsync(timeout.Token); }
        catch (OperationCanceledException) { }
        await app.DisposeAsync();
    }
}
