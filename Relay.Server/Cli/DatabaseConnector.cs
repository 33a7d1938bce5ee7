using Npgsql;
using Relay.Db;

namespace Relay.Server.Cli;

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

    /// <summary>
    /// Opens the database and checks that every migration this build knows is applied, so a command on an
    /// unmigrated (or older) schema says so in one line instead of failing on a missing table. Only `relay migrate`
    /// opens without this check.
    /// </summary>
    public static async Task<RelayDatabase> OpenCurrentAsync(string connectionString, CancellationToken cancellationToken)
    {
        var db = await OpenAsync(connectionString, cancellationToken);
        try
        {
            var applied = await db.Migrator().AppliedVersionsAsync(cancellationToken);
            var missing = Migrator.Embedded().Where(m => !applied.Contains(m.Version)).ToList();
            if (missing.Count > 0)
                throw new Configuration.ConfigException("Relay:Database", Redact(connectionString),
                    $"schema is missing migrations {string.Join(", ", missing.Select(m => m.Version))}; run `relay migrate`");
            return db;
        }
        catch
        {
            await db.DisposeAsync();
            throw;
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
