using System.Net;
using Npgsql;

namespace Relay.TestKit.Postgres;

/// <summary>
/// One throw-away PostgreSQL cluster per test run. test.sh starts one and exports its admin
/// connection string as RELAY_TEST_PG so every test project shares it; without that variable (a plain
/// `dotnet test`) the first use starts a cluster in a temp directory and the process exit stops it.
/// </summary>
public sealed class PostgresCluster
{
    public const string EnvironmentVariable = "RELAY_TEST_PG";
    private static readonly Lazy<Task<PostgresCluster>> shared = new(StartSharedAsync);

    private PostgresCluster(string adminConnectionString) => AdminConnectionString = adminConnectionString;

    public string AdminConnectionString { get; }

    public static Task<PostgresCluster> SharedAsync() => shared.Value;

    /// <summary>Creates an empty database with a unique name and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"create database \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    private static async Task<PostgresCluster> StartSharedAsync()
    {
        var fromScript = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromScript))
            return new PostgresCluster(fromScript);

        var binDirectory = FindBinDirectory();
        var root = Directory.CreateTempSubdirectory("relay-pg-").FullName;
        var data = Path.Combine(root, "data");
        if (Processes.IsRoot)
            await Processes.RunAsync("chown", ["postgres:postgres", root], TimeSpan.FromSeconds(10));
        await Processes.RunAsUserAsync("postgres",
            $"{binDirectory}/initdb -D {Processes.Quote(data)} -A trust -U postgres --no-sync -E UTF8 >/dev/null", TimeSpan.FromMinutes(2));

        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = Processes.FreeTcpPort(IPAddress.Loopback);
            try
            {
                await Processes.RunAsUserAsync("postgres",
                    $"{binDirectory}/pg_ctl -D {Processes.Quote(data)} -w -t 60 -l {Processes.Quote(data + "/server.log")} " +
                    $"-o \"-p {port} -k {root} -h 127.0.0.1 -c max_connections=300\" start >/dev/null", TimeSpan.FromMinutes(2));
                AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(binDirectory, data, root);
                return new PostgresCluster($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=60");
            }
            catch (InvalidOperationException e) { last = e; }
        }
        throw new InvalidOperationException("could not start a test PostgreSQL cluster", last);
    }

    private static void Stop(string binDirectory, string data, string root)
    {
        try
        {
            Processes.RunAsUserAsync("postgres", $"{binDirectory}/pg_ctl -D {Processes.Quote(data)} -m immediate stop >/dev/null",
                TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            Directory.Delete(root, recursive: true);
        }
        catch (Exception) { /* best effort at process exit: the temp directory is all that can leak */ }
    }

    internal static string FindBinDirectory()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal).ToList()
            : [];
        return candidates.FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)");
    }
}
