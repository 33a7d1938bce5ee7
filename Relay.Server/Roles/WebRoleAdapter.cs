using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Server.Configuration;
using Relay.Web;

namespace Relay.Server.Roles;

/// <summary>`--roles web`: the admin UI on Kestrel. Without an admin password hash it refuses to start.</summary>
internal sealed class WebRoleAdapter(RelayConfig config, RelayDatabase db, ILoggerFactory loggers) : IRole
{
    private WebApplication? app;

    public string Name => "web";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = new WebOptions(config.WebListen.Select(e => e.ToString()).ToList(), config.AdminUser ?? "", config.AdminPasswordHash);
        try
        {
            app = WebHost.Build(options, db);
        }
        catch (WebConfigurationException e)
        {
            throw new ConfigException("Relay:Web", null, e.Message);
        }
        await app.StartAsync(cancellationToken);
        loggers.CreateLogger("web").LogInformation("admin UI on {Urls}", string.Join(", ", WebHost.BoundUrls(app)));
    }

    public async Task StopAsync(TimeSpan drain)
    {
        if (app is null) return;
        using var timeout = new CancellationTokenSource(drain);
        await app.StopAsync(timeout.Token);
    }

    public ValueTask DisposeAsync() => app?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>The checks that need no database; WebHost.Build repeats them with the hash format.</summary>
    internal static void Validate(RelayConfig config)
    {
        if (config.AdminUser is null)
            throw new ConfigException("Relay:Web:AdminUser", null, "not set: the web role needs an admin user");
        if (config.AdminPasswordHash is null)
            throw new ConfigException("Relay:Web:AdminPasswordHash", null,
                "not set and there is no default password; make one with `relay web hash-password` (password on stdin)");
    }
}
