using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Db;
using Relay.Policy.Planning;
using Relay.Dns;
using Relay.Smtp.Client;
using Relay.TestKit.Postgres;

namespace Relay.Delivery.Tests;

/// <summary>A fresh migrated database per test, and helpers to enqueue and deliver against test peers.</summary>
internal sealed class Harness : IAsyncDisposable
{
    private Harness(RelayDatabase database, string connectionString)
    {
        Database = database;
        ConnectionString = connectionString;
    }

    public RelayDatabase Database { get; }
    public string ConnectionString { get; }

    public static async Task<Harness> CreateAsync()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var connectionString = await cluster.CreateDatabaseAsync("relay_dlv");
        var database = new RelayDatabase(connectionString);
        await database.Migrator().ApplyAsync();
        return new Harness(database, connectionString);
    }

    public static DeliveryOptions Options(params (string Domain, string Route)[] routes) => new()
    {
        Hostname = "relay.test",
        Routes = routes.ToDictionary(r => r.Domain, r => NextHop.ForRoute(r.Domain, r.Route), StringComparer.OrdinalIgnoreCase),
        Timeouts = new SmtpClientTimeouts
        {
            Connect = TimeSpan.FromSeconds(5), Greeting = TimeSpan.FromSeconds(10), Command = TimeSpan.FromSeconds(10),
            TlsHandshake = TimeSpan.FromSeconds(10), DataBlock = TimeSpan.FromSeconds(10), Dot = TimeSpan.FromSeconds(10),
        },
        IdlePoll = TimeSpan.FromSeconds(1),
    };

    public DeliveryRole Role(DeliveryOptions options, IDnsResolver? dns = null) => new(options, Database, NullLogger.Instance, dns);

    public Task<string> EnqueueAsync(string sender, IEnumerable<string> recipients, string body = "Subject: test\r\n\r\nhello\r\n",
        bool requireTls = false, string? notify = null, byte[]? rawBody = null) =>
        Database.Queue.EnqueueAsync(
            new NewMessage(sender, rawBody ?? Encoding.UTF8.GetBytes(body), "192.0.2.1", "client.test", InboundSecurity.Cleartext, RequireTls: requireTls),
            recipients.Select(r => new NewRecipient(r, DsnNotify: notify)).ToList(), CancellationToken.None);

    public async Task<MessageDetail> ShowAsync(string queueId) =>
        await Database.QueueReader.GetMessageAsync(queueId, CancellationToken.None) ?? throw new InvalidOperationException($"{queueId} not found");

    /// <summary>The DSNs in the queue: messages with the null sender.</summary>
    public async Task<IReadOnlyList<QueuedMessage>> BouncesAsync()
    {
        var list = await Database.QueueReader.ListMessagesAsync(new Page(0, 500), CancellationToken.None);
        var result = new List<QueuedMessage>();
        foreach (var summary in list.Where(m => m.Sender.Length == 0))
            result.Add((await Database.Queue.LoadMessageAsync(summary.QueueId, CancellationToken.None))!);
        return result;
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public ValueTask DisposeAsync() => Database.DisposeAsync();
}
