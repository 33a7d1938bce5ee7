using Microsoft.Extensions.Logging;
using Relay.Delivery.Ipsec;

namespace Relay.Server.Operations;

/// <summary>
/// The delivery role's watch on the libreswan sidecar when Relay:Ipsec:Enabled: at start-up and every minute, does pluto
/// answer a traffic-status request on its control socket? Not answering is a warning in the log and in /readyz's detail
/// naming the socket; it never stops delivery (each attempt then records <c>sidecar-unreachable</c> and goes on, or
/// defers for class <c>private</c>). Answering shows as <c>reachable</c> under /readyz's <c>checks</c>.
/// </summary>
public sealed class IpsecSidecarMonitor(IpsecOptions options, ServerHealth health, ILogger logger) : IAsyncDisposable
{
    public const string HealthCheck = "ipsec";
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private bool? lastReachable;
    private PeriodicCheck? loop;

    public void Start() => (loop = new PeriodicCheck(Interval, CheckOnceAsync)).Start();

    internal async Task CheckOnceAsync(CancellationToken cancellationToken)
    {
        string? problem;
        try
        {
            problem = await IpsecSidecar.ProbeAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        var reachable = problem is null;
        if (reachable)
            health.Pass(HealthCheck, $"reachable: pluto answers on {options.ControlSocket}");
        else
            health.Warn(HealthCheck, $"pluto's control socket {options.ControlSocket} is unreachable: {problem}");
        // Logged when the answer changes, not every minute.
        if (lastReachable != reachable)
        {
            if (reachable) logger.LogInformation("ipsec sidecar: pluto answers on {Socket}", options.ControlSocket);
            else logger.LogWarning("ipsec sidecar: pluto's control socket {Socket} is unreachable: {Problem}", options.ControlSocket, problem);
        }
        lastReachable = reachable;
    }

    public ValueTask DisposeAsync() => loop?.DisposeAsync() ?? ValueTask.CompletedTask;
}
