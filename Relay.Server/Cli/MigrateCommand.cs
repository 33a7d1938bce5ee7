using System.CommandLine;
using Npgsql;
using Relay.Db;

namespace Relay.Server.Cli;

/// <summary>`relay migrate`: applies pending migrations; safe to repeat and to run from two hosts at once.</summary>
internal static class MigrateCommand
{
    public static Command Build()
    {
        var command = new Command("migrate", "apply pending database migrations (safe to repeat)");
        command.SetAction(async (_, cancellationToken) =>
        {
            var connectionString = CliContext.ConnectionString();
            await using var db = await DatabaseConnector.OpenAsync(connectionString, cancellationToken);
            var applied = await db.Migrator().ApplyAsync(cancellationToken);
            Console.WriteLine(applied.Count == 0
                ? "relay: database schema is up to date"
                : $"relay: applied {string.Join(", ", applied.Select(m => $"{m.Version:D4}_{m.Name}"))}");
            return RelayCli.Ok;
        });
        return command;
    }
}
