using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Server.Configuration;
using Relay.Server.Operations;
using Relay.Server.Roles;

namespace Relay.Server.Cli;

/// <summary>`relay serve [--roles smtp,delivery,web]`: runs until SIGTERM/SIGINT, then drains.</summary>
internal static class ServeCommand
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(20);

    public static Command Build()
    {
        var roles = new Option<string>("--roles")
        {
            Description = $"comma-separated roles to run ({string.Join(", ", RoleFactory.Known)})",
            DefaultValueFactory = _ => string.Join(',', RoleFactory.Known),
        };
        var command = new Command("serve", "run the relay until SIGTERM or SIGINT, then drain") { roles };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var names = ParseRoles(parse.GetValue(roles) ?? "");
            var config = CliContext.Config();
            var operations = OperationsOptions.From(config);
            foreach (var warning in names.SelectMany(name => RoleFactory.Validate(name, config)).ToList())
                await Console.Error.WriteLineAsync($"relay: configuration warning: {warning}");
            using var loggers = RelayLogging.Create(operations.LogFormat);
            var log = loggers.CreateLogger("relay");
            await using var db = await DatabaseConnector.OpenCurrentAsync(config.RequireDatabase(), cancellationToken);
            var health = new ServerHealth();
            await using var metrics = await StartOperationsListenerAsync(operations, db, health, loggers, cancellationToken);
            log.LogInformation("metrics and health on {Urls}", string.Join(", ", metrics.Urls));

            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
            using var cancelled = cancellationToken.Register(() => stop.TrySetResult());

            var started = new List<IRole>();
            try
            {
                foreach (var name in names)
                {
                    var role = RoleFactory.Create(name, config, db, loggers, health);
                    started.Add(role);
                    await role.StartAsync(cancellationToken);
                    log.LogInformation("role {Role} started", name);
                }
                log.LogInformation("relay {Hostname} serving roles {Roles}", config.Hostname, string.Join(",", names));
                await stop.Task;
                log.LogInformation("stopping: draining for up to {Seconds} s", Drain.TotalSeconds);
            }
            finally
            {
                started.Reverse();
                foreach (var role in started)
                {
                    try { await role.StopAsync(Drain); }
                    catch (Exception e) { log.LogError(e, "role {Role} did not stop cleanly", role.Name); }
                    await role.DisposeAsync();
                }
            }
            return RelayCli.Ok;
        });
        return command;
    }

    private static async Task<OperationsListener> StartOperationsListenerAsync(OperationsOptions operations, RelayDatabase db, ServerHealth health,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        try
        {
            return await OperationsListener.StartAsync(operations.MetricsListen, db, health, loggers, cancellationToken);
        }
        catch (IOException e)
        {
            // Kestrel reports a port in use as an IOException: name the key, as for every other listener.
            throw new ConfigException("Relay:Metrics:Listen", operations.MetricsListen.ToString(), $"cannot listen: {e.Message}");
        }
    }

    internal static IReadOnlyList<string> ParseRoles(string value)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).Distinct().ToList();
        if (names.Count == 0)
            throw new UsageException("--roles: name at least one role");
        foreach (var name in names.Where(n => !RoleFactory.Known.Contains(n)))
            throw new UsageException($"--roles: unknown role '{name}'; expected {string.Join(", ", RoleFactory.Known)}");
        return names;
    }
}
