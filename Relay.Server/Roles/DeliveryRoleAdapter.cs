using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Delivery;
using Relay.Server.Configuration;
using Relay.Server.Operations;

namespace Relay.Server.Roles;

/// <summary>`--roles delivery`: the outbound engine, running until stopped (and, with Relay:Ipsec:Enabled, the watch on
/// the IPsec sidecar for /readyz).</summary>
internal sealed class DeliveryRoleAdapter(RelayConfig config, RelayDatabase db, ILoggerFactory loggers, ServerHealth health) : IRole
{
    private readonly CancellationTokenSource stop = new();
    private Task? running;
    private IpsecSidecarMonitor? ipsec;
    private Task? reports;

    public string Name => "delivery";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = DeliveryOptionsReader.Read(config);
        var role = new DeliveryRole(options, db, loggers.CreateLogger("delivery"));
        if (options.Ipsec.Enabled)
        {
            ipsec = new IpsecSidecarMonitor(options.Ipsec, health, loggers.CreateLogger("delivery"));
            ipsec.Start();
        }
        running = Task.Run(() => role.RunAsync(stop.Token), CancellationToken.None);
        reports = TlsRptRound.Start(config, options, db, loggers, stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(TimeSpan drain)
    {
        await stop.CancelAsync();
        if (ipsec is not null) await ipsec.DisposeAsync();
        ipsec = null;
        if (running is null) return;
        try { await running.WaitAsync(drain + TimeSpan.FromSeconds(5)); }
        catch (OperationCanceledException) { }
        if (reports is not null)
            try { await reports.WaitAsync(TimeSpan.FromSeconds(5)); }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (ipsec is not null) await ipsec.DisposeAsync();
        stop.Dispose();
    }
}
