using Npgsql;

namespace Relay.Db;

public sealed record InboundSessionStart(string Listener, string ClientAddress);

/// <summary>Inbound sessions as the listener saw them, kept so the UI can show who reaches us in cleartext.</summary>
public sealed class InboundSessionStore(NpgsqlDataSource dataSource)
{
    public async Task<long> StartAsync(InboundSessionStart start, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await BookkeepingAsync(connection, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            insert into inbound_sessions (listener, client_address, transport) values (@listener, @address, 'cleartext') returning id
            """, connection, transaction);
        command.Parameters.AddWithValue("listener", start.Listener);
        command.Parameters.AddWithValue("address", start.ClientAddress);
        var id = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>
    /// Session rows are statistics, not mail: a crash may lose the last few, so they need not wait for the
    /// disk (measured: two synchronous commits per connection were most of the inbound cost, bench/README.md).
    /// </summary>
    private static async Task<NpgsqlTransaction> BookkeepingAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var relaxed = new NpgsqlCommand("set local synchronous_commit = off", connection, transaction);
        await relaxed.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return transaction;
    }

    /// <summary>Writes the session's final state: the strongest security it reached, its HELO name and message count.</summary>
    public async Task EndAsync(long sessionId, string? helo, InboundSecurity security, string? authUser, int messages, string endReason,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await BookkeepingAsync(connection, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            update inbound_sessions set ended_at = now(), client_helo = @helo, transport = @transport, tls_version = @tls_version,
                tls_cipher = @tls_cipher, client_spki = @spki, auth_user = @auth, messages = @messages, end_reason = @reason
            where id = @id
            """, connection, transaction);
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
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
