using System.CommandLine;
using Relay.Server.Configuration;

namespace Relay.Server.Cli;

/// <summary>
/// The `relay` command line (DESIGN.md § Contracts). Exit codes: 0 success, 1 a negative answer,
/// 2 bad usage or bad input — including System.CommandLine's own parse errors, which default to 1.
/// </summary>
public static class RelayCli
{
    public const int Ok = 0;
    public const int Negative = 1;
    public const int BadInput = 2;

    public static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = "configuration file (JSON); default: relay.json in the working directory when present",
        Recursive = true,
    };

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Relay: an opportunistic-TLS SMTP relay with DANE");
        root.Options.Add(ConfigOption);
        root.Subcommands.Add(ServeCommand.Build());
        root.Subcommands.Add(MigrateCommand.Build());
        foreach (var command in CommandRegistry.Extra())
            root.Subcommands.Add(command);
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = BuildRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                await Console.Error.WriteLineAsync($"relay: {error.Message}");
            return BadInput;
        }
        CliContext.ConfigPath = parse.GetValue(ConfigOption);
        try
        {
            // Our own handlers: configuration and usage errors exit 2 with one line, and `serve`
            // handles SIGTERM/SIGINT itself so it can drain.
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"relay: configuration: {e.Message}");
            return BadInput;
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"relay: {e.Message}");
            return BadInput;
        }
        catch (Npgsql.NpgsqlException e) when (e is not Npgsql.PostgresException)
        {
            // Any command that reaches for the database: unreachable is a configuration problem (exit 2).
            await Console.Error.WriteLineAsync($"relay: configuration: Relay:Database: database unreachable: {e.Message}");
            return BadInput;
        }
    }
}

/// <summary>Bad input to a command (not configuration): the message names the value; exit 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>What every command may need: the configuration named by --config, loaded on first use.</summary>
public static class CliContext
{
    private static RelayConfig? config;

    public static string? ConfigPath { get; set; }

    public static RelayConfig Config() => config ??= ConfigLoader.Load(ConfigPath);

    public static string ConnectionString() => Config().RequireDatabase();
}
