using System.Net;
using Npgsql;
using Relay.Db;
using Relay.EndToEnd.Tests;
using Relay.TestKit;

namespace Relay.Resilience.Tests;

/// <summary>
/// One relay configuration of a scenario: a migrated database, an inbound port, a hosted domain routed to the
/// scenario's peer, and short retry and lease times so that recovery is measured in seconds. <see cref="StartAsync"/>
/// runs the real executable (`relay serve`) and waits until its roles say they started.
/// </summary>
public sealed class RelayUnderTest
{
    private RelayUnderTest(string database, string domain, string route)
    {
        Database = database;
        Domain = domain;
        Port = Processes.FreeTcpPort(IPAddress.Loopback);
        Env = new Dictionary<string, string>
        {
            ["Relay__Database"] = database,
            ["Relay__Hostname"] = $"mx.{domain}",
            ["Relay__Smtp__Listen__0"] = $"127.0.0.1:{Port}",
            ["Relay__Domains__0"] = domain,
            [$"Relay__Routes__{domain}"] = route,
            ["Relay__DataDirectory"] = Directory.CreateTempSubdirectory("relay-resilience-").FullName,
            ["Relay__Delivery__Lease"] = "3s",
            ["Relay__Delivery__FirstRetry"] = "1s",
            ["Relay__Delivery__MaxRetry"] = "2s",
            ["Relay__Delivery__IdlePoll"] = "1s",
            ["Relay__Delivery__DestinationConcurrency"] = MaxSessionsToPeer.ToString(),
        };
    }

    /// <summary>Sessions one relay process keeps to the peer at most.</summary>
    public const int MaxSessionsToPeer = 4;

    /// <summary>
    /// Transactions one session may have handed on whose records are not yet committed (Relay.Delivery's RecordWindow.Limit,
    /// internal there): what a fault can leave delivered but unrecorded, and so send again.
    /// </summary>
    public const int RecordsInFlightPerSession = 8;

    /// <summary>The most deliveries one fault (a kill, a database stop) can leave unrecorded: the duplicates it may cause.</summary>
    public const int MaxUnrecordedPerFault = MaxSessionsToPeer * RecordsInFlightPerSession;

    public string Database { get; }
    public string Domain { get; }
    public int Port { get; }
    public Dictionary<string, string> Env { get; }

    public static async Task<RelayUnderTest> CreateAsync(string database, string domain, string route)
    {
        await using (var db = new RelayDatabase(database))
            await db.Migrator().ApplyAsync();
        return new RelayUnderTest(database, domain, route);
    }

    public async Task<RelayProcess> StartAsync(string roles = "smtp,delivery")
    {
        var relay = RelayProcess.Start(Env, "serve", "--roles", roles);
        foreach (var role in roles.Split(','))
            await relay.WaitForOutputAsync($"role {role} started", TimeSpan.FromSeconds(60));
        return relay;
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(Database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? 0 : Convert.ToInt64(value);
    }

    public async Task<string> ScalarTextAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(Database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync()) as string ?? "";
    }

    /// <summary>The test's own connections are never pooled: a scenario that terminates the server's sessions must not break the test's reads.</summary>
    public static string Unpooled(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    public Task<long> DeliveredAsync() => ScalarAsync("select count(*) from recipients where state = 'delivered'");

    /// <summary>
    /// Waits (at most 10 s) until no other backend is connected to the relay's database: after a SIGKILL, a batch the
    /// killed process had already sent, COMMIT included, may still commit. Counting before that would miscount it.
    /// </summary>
    public async Task WaitForKilledBackendsAsync()
    {
        for (var i = 0; i < 200; i++)
        {
            if (await ScalarAsync("select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()") == 0) return;
            await Task.Delay(50);
        }
    }

    public Task<long> NotDeliveredAsync() => ScalarAsync("select count(*) from recipients where state <> 'delivered'");

    /// <summary>The local parts of every queued recipient (the load's markers): what the queue holds, committed.</summary>
    public async Task<HashSet<string>> QueuedMarkersAsync()
    {
        var markers = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(Unpooled(Database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select split_part(address, '@', 1) from recipients", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) markers.Add(reader.GetString(0));
        return markers;
    }

    public Task<long> BouncedAsync() => ScalarAsync("select count(*) from recipients where state = 'bounced'");
}
