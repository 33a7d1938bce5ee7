using Npgsql;

namespace Relay.Db;

public sealed record InboundSessionStart(string Listener, string ClientAddress);

/// <summary>Inbound sessions as the listener saw them, kept so the UI can show who reaches us in cleartext.</summary>
public sealed class InboundSessionStore(NpgsqlDataSource dataSource)
{
    public async Task<long> StartAsync(InboundSessionStart start, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var command = new NpgsqlBatchCommand("""
            insert into inbound_sessions (listener, client_address, transport) values (@listener, @address, 'cleartext') returning id
            """);
        command.Parameters.AddWithValue("listener", start.Listener);
        command.Parameters.AddWithValue("address", start.ClientAddress);
        await using var batch = Bookkeeping(connection, command);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false); // past set_config's row
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) throw new InvalidOperationException("the session insert returned no id");
        return reader.GetInt64(0);
    }

    /// <summary>
    /// Session rows are statistics, not mail: a crash may lose the last few, so they need not wait for the
    /// disk (measured: two synchronous commits per connection were most of the inbound cost, bench/README.md).
    /// The setting and the statement travel in one round trip and run in one implicit transaction (no BEGIN/COMMIT
    /// of their own: a connection costs the database two statements at start and two at end, not eight in six round trips).
    /// </summary>
    private static NpgsqlBatch Bookkeeping(NpgsqlConnection connection, NpgsqlBatchCommand command)
    {
        var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("select set_config('synchronous_commit', 'off', true)"));
        batch.BatchCommands.Add(command);
        return batch;
    }

    /// <summary>Writes the session's final state: the strongest security it reached, its HELO name and message count.</summary>
    public async Task EndAsync(long sessionId, string? helo, InboundSecurity security, string? authUser, int messages, string endReason,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var command = new NpgsqlBatchCommand("""
            update inbound_sessions set ended_at = now(), client_helo = @helo, transport = @transport, tls_version = @tls_version,
                tls_cipher = @tls_cipher, client_spki = @spki, auth_user = @auth, messages = @messages, end_reason = @reason
            where id = @id
            """);
        var p = command.Parameters;
        p.AddWithValue("id", sessionId);
        AttemptStore.AddText(p, "helo", helo);
        p.AddWithValue("transport", security.Transport);
        AttemptStore.AddText(p, "tls_version", security.TlsVersion);
        AttemptStore.AddText(p, "tls_cipher", security.TlsCipher);
        AttemptStore.AddText(p, "spki", security.ClientSpki);
        AttemptStore.AddText(p, "auth", authUser);
        p.AddWithValue("messages", messages);
        p.AddWithValue("reason", endReason);
        await using var batch = Bookkeeping(connection, command);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
