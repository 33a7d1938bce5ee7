using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// One migrated database for delivery scenarios: messages go straight into the queue (no smtp role
/// needed), results are read back through Relay.Db while waiting and through `relay queue show --json`
/// (the operator's contract) for the assertions.
/// </summary>
public sealed class DeliveryQueue : IAsyncDisposable
{
    private DeliveryQueue(string connectionString)
    {
        ConnectionString = connectionString;
        Database = new RelayDatabase(connectionString);
    }

    public string ConnectionString { get; }
    public RelayDatabase Database { get; }

    public static async Task<DeliveryQueue> CreateAsync(string prefix)
    {
        var cluster = await PostgresCluster.SharedAsync();
        var queue = new DeliveryQueue(await cluster.CreateDatabaseAsync(prefix));
        await queue.Database.Migrator().ApplyAsync();
        return queue;
    }

    public Task<string> EnqueueAsync(string sender, IReadOnlyList<string> recipients, string? body = null) =>
        Database.Queue.EnqueueAsync(
            new NewMessage(sender, Encoding.UTF8.GetBytes(body ?? $"Subject: e2e delivery\r\nMessage-ID: <{Guid.NewGuid():N}@sender.e2e.test>\r\n\r\nhello\r\n"),
                "192.0.2.1", "client.e2e.test", InboundSecurity.Cleartext),
            recipients.Select(r => new NewRecipient(r)).ToList(), CancellationToken.None);

    public async Task<MessageDetail> DetailAsync(string queueId) =>
        await Database.QueueReader.GetMessageAsync(queueId, CancellationToken.None) ?? throw new InvalidOperationException($"{queueId} is not in the queue");

    /// <summary>Waits until every recipient of the message is in one of <paramref name="states"/>; throws with what it saw otherwise.</summary>
    public async Task<MessageDetail> WaitForStatesAsync(string queueId, TimeSpan timeout, params string[] states)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var detail = await DetailAsync(queueId);
            if (detail.Recipients.All(r => states.Contains(r.State))) return detail;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"{queueId}: recipients still {string.Join(", ", detail.Recipients.Select(r => $"{r.Address}={r.State} ({r.LastResult})"))} " +
                                           $"after {timeout}; wanted {string.Join("|", states)}");
            await Task.Delay(100);
        }
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? 0 : Convert.ToInt64(value);
    }

    /// <summary>`relay queue show ID --json` on the real executable: the document operators and scripts see.</summary>
    public async Task<JsonElement> ShowAsync(string queueId)
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = ConnectionString },
            "queue", "show", queueId, "--json");
        Assert.True(code == 0, $"relay queue show exited {code}: {stderr}");
        using var document = JsonDocument.Parse(stdout);
        return document.RootElement.Clone();
    }

    public ValueTask DisposeAsync() => Database.DisposeAsync();
}

/// <summary>Reading the `relay queue show --json` document.</summary>
public static class ShowDocument
{
    public static string? Text(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static IReadOnlyList<JsonElement> Recipients(this JsonElement message) => [.. message.GetProperty("recipients").EnumerateArray()];

    public static IReadOnlyList<JsonElement> Attempts(this JsonElement message) => [.. message.GetProperty("attempts").EnumerateArray()];

    public static string? Spki(this JsonElement attempt) =>
        attempt.TryGetProperty("tls", out var tls) && tls.ValueKind == JsonValueKind.Object ? tls.Text("spki") : null;

    /// <summary>One line per attempt, for assertion messages.</summary>
    public static string Describe(this JsonElement message) => string.Join("\n", message.Attempts().Select(a =>
        $"{a.Text("peer")}[{a.Text("address")}] stage={a.Text("stage")} {a.Text("transport")}/{a.Text("how")} reason={a.Text("reason")} " +
        $"mx={a.Text("mxDnssec")} tlsa={a.Text("tlsaStatus")} reply={a.Text("reply")}"));
}
