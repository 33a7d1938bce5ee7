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

/// <summary>Opens the database or fails with one line naming Relay:Database (exit 2).</summary>
internal static class DatabaseConnector
{
    public static async Task<RelayDatabase> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        RelayDatabase db;
        try
        {
            db = new RelayDatabase(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new Configuration.ConfigException("Relay:Database", Redact(connectionString), $"not a valid connection string: {e.Message}");
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            await db.CheckReachableAsync(timeout.Token);
            return db;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or System.Net.Sockets.SocketException or TimeoutException)
        {
            await db.DisposeAsync();
            var reason = e is OperationCanceledException ? "timed out after 15 s" : e.Message;
            throw new Configuration.ConfigException("Relay:Database", Redact(connectionString), $"database unreachable: {reason}");
        }
    }

    /// <summary>The connection string without its password, for error messages.</summary>
    public static string Redact(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (!string.IsNullOrEmpty(builder.Password)) builder.Password = "***";
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return connectionString.Contains("password", StringComparison.OrdinalIgnoreCase) ? "(unparseable, contains a password)" : connectionString;
        }
    }
}
