using System.Net;
using Npgsql;
using Relay.Db;
using Relay.TestKit;
using Relay.TestKit.Postgres;

namespace Relay.Inbound.Tests;

public class DurabilityTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task An_unreachable_database_gets_451_4_3_0_and_the_listener_keeps_serving()
    {
        var port = Processes.FreeTcpPort(IPAddress.Loopback);
        await using var down = new RelayDatabase($"Host=127.0.0.1;Port={port};Database=none;Username=none;Timeout=2;Pooling=false");
        await using var listener = await TestListener.StartAsync(down);
        for (var round = 0; round < 2; round++)
        {
            await using var client = await listener.ConnectAsync();
            await client.CommandAsync("EHLO c");
            var reply = await ProtocolTests.SendMessageAsync(client, "a@b.example", "u@hosted.example", "Subject: x\r\n\r\nx");
            Assert.Equal("451 4.3.0 Error: queue file write error", reply.ToString());
            Assert.Equal(250, (await client.CommandAsync("NOOP")).Code);
        }
    }

    [Fact]
    public async Task A_database_error_at_commit_gets_451_and_nothing_half_written_remains()
    {
        // A second database whose recipients table refuses inserts: the message row is written, then the
        // transaction fails, so the whole message must roll back.
        var cluster = await PostgresCluster.SharedAsync();
        var connectionString = await cluster.CreateDatabaseAsync("relay_broken");
        await using var db = new RelayDatabase(connectionString);
        await db.Migrator().ApplyAsync();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("alter table recipients add constraint refuse_all check (address = 'never')", connection);
            await command.ExecuteNonQueryAsync();
        }
        await using var listener = await TestListener.StartAsync(db);
        await using var client = await listener.ConnectAsync();
        var sender = QueueRows.UniqueSender("rollback");
        await client.CommandAsync("EHLO c");
        Assert.StartsWith("451 4.3.0", (await ProtocolTests.SendMessageAsync(client, sender, "u@hosted.example", "Subject: x\r\n\r\nx")).ToString());
        Assert.Empty(await QueueRows.FromSenderAsync(connectionString, sender));
    }

    [Fact]
    public async Task Each_session_is_recorded_with_its_helo_security_and_message_count()
    {
        await using var listener = await TestListener.StartAsync(fixture.Database);
        var helo = $"record-{Guid.NewGuid():N}.example";
        await using (var client = await listener.ConnectAsync())
        {
            await client.CommandAsync($"EHLO {helo}");
            Assert.Equal(250, (await ProtocolTests.SendMessageAsync(client, "a@b.example", "u@hosted.example", "Subject: x\r\n\r\nx")).Code);
            await client.CommandAsync("QUIT");
        }
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        for (var attempt = 0; attempt < 50; attempt++)
        {
            await using var command = new NpgsqlCommand("select listener, transport, messages, end_reason from inbound_sessions where client_helo = @helo", connection);
            command.Parameters.AddWithValue("helo", helo);
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                Assert.Equal(("smtp", "cleartext", 1, "quit"), (reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3)));
                return;
            }
            await Task.Delay(100);
        }
        Assert.Fail("the session was never recorded");
    }
}
