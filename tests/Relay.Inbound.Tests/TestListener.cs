using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Relay.Db;
using Relay.TestKit.Smtp;

namespace Relay.Inbound.Tests;

/// <summary>A real <see cref="SmtpRole"/> on 127.0.0.1 port 0 with test defaults; disposed per test.</summary>
public sealed class TestListener : IAsyncDisposable
{
    public const string Hosted = "hosted.example";

    private TestListener(SmtpRole role, SmtpListenerOptions options, IReadOnlyList<IPEndPoint> endpoints)
    {
        Role = role;
        Options = options;
        Endpoints = endpoints;
    }

    public SmtpRole Role { get; }
    public SmtpListenerOptions Options { get; }
    public IReadOnlyList<IPEndPoint> Endpoints { get; }
    public IPEndPoint Endpoint => Role.ListenEndpoints[0];

    public static async Task<TestListener> StartAsync(RelayDatabase db, Action<SmtpListenerOptions>? configure = null)
    {
        var options = new SmtpListenerOptions
        {
            Hostname = "mx.test.example",
            Listen = [new IPEndPoint(IPAddress.Loopback, 0)],
            Domains = [Hosted],
            IdleTimeout = TimeSpan.FromSeconds(20),
        };
        configure?.Invoke(options);
        var role = new SmtpRole(options, db, NullLogger.Instance);
        var endpoints = await role.StartAsync(CancellationToken.None);
        return new TestListener(role, options, endpoints);
    }

    /// <summary>Connects and reads the greeting.</summary>
    public async Task<RawSmtpClient> ConnectAsync(IPEndPoint? endpoint = null, IPAddress? from = null)
    {
        var client = await RawSmtpClient.ConnectAsync(endpoint ?? Endpoint, localAddress: from);
        var greeting = await client.ReadReplyAsync();
        Assert.Equal(220, greeting.Code);
        return client;
    }

    public async ValueTask DisposeAsync() => await Role.DisposeAsync();
}

public sealed record StoredRecipient(string Address, string? Notify, string? Orcpt);

public sealed record StoredMessage(string QueueId, string Sender, string Body, string BodyType, bool SmtpUtf8, bool RequireTls,
    string? Envid, string? Ret, string ClientHelo, string Transport, string? TlsVersion, string? TlsCipher, string? ClientSpki,
    string? ClientAuth, IReadOnlyList<StoredRecipient> Recipients);

/// <summary>Reads the queue straight from PostgreSQL, so tests see what was committed and nothing else.</summary>
public static class QueueRows
{
    public static async Task<IReadOnlyList<StoredMessage>> FromSenderAsync(string connectionString, string sender)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var messages = new List<(long Id, StoredMessage Message)>();
        await using (var command = new NpgsqlCommand("""
            select id, queue_id, sender, body, body_type, smtputf8, requiretls, dsn_envid, dsn_ret, coalesce(client_helo, ''),
                   inbound_transport, inbound_tls_version, inbound_tls_cipher, inbound_client_spki, client_auth
            from messages where sender = @sender order by id
            """, connection))
        {
            command.Parameters.AddWithValue("sender", sender);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                messages.Add((reader.GetInt64(0), new StoredMessage(reader.GetString(1), reader.GetString(2),
                    System.Text.Encoding.UTF8.GetString((byte[])reader[3]), reader.GetString(4), reader.GetBoolean(5), reader.GetBoolean(6),
                    reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetString(9),
                    reader.GetString(10), reader.IsDBNull(11) ? null : reader.GetString(11), reader.IsDBNull(12) ? null : reader.GetString(12),
                    reader.IsDBNull(13) ? null : reader.GetString(13), reader.IsDBNull(14) ? null : reader.GetString(14), [])));
        }
        var result = new List<StoredMessage>();
        foreach (var (id, message) in messages)
        {
            var recipients = new List<StoredRecipient>();
            await using var command = new NpgsqlCommand("select address, dsn_notify, dsn_orcpt from recipients where message_id = @id order by id", connection);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                recipients.Add(new StoredRecipient(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
            result.Add(message with { Recipients = recipients });
        }
        return result;
    }

    public static string UniqueSender(string tag) => $"{tag}-{Guid.NewGuid():N}@sender.example";
}
