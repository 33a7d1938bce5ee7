using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Delivery;
using Relay.Server.Configuration;

namespace Relay.Server.Roles;

/// <summary>`--roles delivery`: the outbound engine, running until stopped.</summary>
internal sealed class DeliveryRoleAdapter(RelayConfig config, RelayDatabase db, ILoggerFactory loggers) : IRole
{
    private readonly CancellationTokenSource stop = new();
    private Task? running;

    public string Name => "delivery";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var role = new DeliveryRole(DeliveryOptionsReader.Read(config), db, loggers.CreateLogger("delivery"));
        running = Task.Run(() => role.RunAsync(stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(TimeSpan drain)
    {
        await stop.CancelAsync();
        if (running is null) return;
        try { await running.WaitAsync(drain + TimeSpan.FromSeconds(5)); }
        catch (OperationCanceledException) { }
    }

    public ValueTask DisposeAsync()
    {
        stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
