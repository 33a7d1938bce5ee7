using System.Net;

namespace Relay.Server.Configuration;

/// <summary>How log lines are written: Microsoft.Extensions.Logging's simple console (one line each) or its JSON console.</summary>
public enum LogFormat { Text, Json }

/// <summary>
/// The operations keys of DESIGN.md § Contracts, read in this one place: <c>Relay:Metrics:Listen</c> (the /metrics,
/// /healthz and /readyz listener of every `relay serve` process) and <c>Relay:Logging:Format</c>.
/// </summary>
public sealed record OperationsOptions(IPEndPoint MetricsListen, LogFormat LogFormat)
{
    public const string DefaultMetricsListen = "127.0.0.1:9464";

    public static OperationsOptions From(RelayConfig config)
    {
        var listen = config.Raw["Metrics:Listen"];
        var endpoint = ConfigParsers.EndPoint("Relay:Metrics:Listen", string.IsNullOrWhiteSpace(listen) ? DefaultMetricsListen : listen.Trim());
        var format = config.Raw["Logging:Format"]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "text" => LogFormat.Text,
            "json" => LogFormat.Json,
            var other => throw new ConfigException("Relay:Logging:Format", other, "expected text or json"),
        };
        return new OperationsOptions(endpoint, format);
    }
}
