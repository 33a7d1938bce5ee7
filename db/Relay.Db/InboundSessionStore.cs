using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

public sealed record InboundSessionStart(string Listener, string ClientAddress);

internal sealed record InboundSessionEnd(long Id, string? Helo, InboundSecurity Security, string? AuthUser, int Messages, string EndReason);

/// <summary>
/// Inbound sessions as the listener saw them, kept so the UI can show who reaches us in cleartext. Session rows are
/// statistics, not mail: a crash may lose the last few, so they never wait for the disk (measured: two synchronous
/// commits per connection were most of the inbound cost, bench/README.md), and concurrent connections' rows are written
/// together, one statement per batch of starts or ends (<see cref="GroupCommit{TItem, TResult}"/>, not durable), so a
/// connection costs the database a share of two statements instead of two transactions of its own.
/// </summary>
public sealed class InboundSessionStore : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private readonly GroupCommit<InboundSessionStart, long> starts;
    private readonly GroupCommit<InboundSessionEnd, bool> ends;

    internal InboundSessionStore(NpgsqlDataSource dataSource)
    {
        starts = new GroupCommit<InboundSessionStart, long>(dataSource, WriteStartsAsync, writers: 1, MaxBatch, _ => 1, MaxBatch, durable: false);
        ends = new GroupCommit<InboundSessionEnd, bool>(dataSource, WriteEndsAsync, writers: 1, MaxBatch, _ => 1, MaxBatch, durable: false);
    }

    public Task<long> StartAsync(InboundSessionStart start, CancellationToken cancellationToken) => starts.SubmitAsync(start, cancellationToken);

    /// <summary>Writes the session's final state: the strongest security it reached, its HELO name and message count.</summary>
    public Task EndAsync(long sessionId, string? helo, InboundSecurity security, string? authUser, int messages, string endReason,
        CancellationToken cancellationToken) =>
        ends.SubmitAsync(new InboundSessionEnd(sessionId, helo, security, authUser, messages, endReason), cancellationToken);

    private static async Task<IReadOnlyList<long>> WriteStartsAsync(NpgsqlBatch commands, IReadOnlyList<InboundSessionStart> batch)
    {
        var insert = new NpgsqlBatchCommand("""
            insert into inbound_sessions (listener, client_address, transport)
            select s.listener, s.address, 'cleartext' from unnest(@listeners, @addresses) with ordinality as s(listener, address, n)
            order by s.n
            returning id
            """);
        insert.Parameters.AddWithValue("listeners", batch.Select(s => s.Listener).ToArray());
        insert.Parameters.AddWithValue("addresses", batch.Select(s => s.ClientAddress).ToArray());
        commands.BatchCommands.Add(insert);
        // Rows are inserted in the order of the select, and serial ids are drawn in that order: the ids come back sorted.
        var ids = new List<long>(batch.Count);
        // The reader starts at the first statement that returns rows (SET returns none).
        await using (var reader = await commands.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false)) ids.Add(reader.GetInt64(0));
        }
        if (ids.Count != batch.Count) throw new InvalidOperationException($"{ids.Count} session ids for {batch.Count} sessions");
        ids.Sort();
        return ids;
    }

    private static async Task<IReadOnlyList<bool>> WriteEndsAsync(NpgsqlBatch commands, IReadOnlyList<InboundSessionEnd> batch)
    {
        var update = new NpgsqlBatchCommand("""
            update inbound_sessions s set ended_at = now(), client_helo = e.helo, transport = e.transport, tls_version = e.tls_version,
                tls_cipher = e.tls_cipher, client_spki = e.spki, auth_user = e.auth, messages = e.messages, end_reason = e.reason
            from unnest(@ids, @helos, @transports, @tls_versions, @tls_ciphers, @spkis, @auths, @messages, @reasons)
                 as e(id, helo, transport, tls_version, tls_cipher, spki, auth, messages, reason)
            where s.id = e.id
              and s.id = any(@ids) -- an index condition whatever the statistics say (AttemptStatement.UpdateStates)
            """);
        var p = update.Parameters;
        p.AddWithValue("ids", batch.Select(e => e.Id).ToArray());
        Text(p, "helos", batch.Select(e => e.Helo));
        Text(p, "transports", batch.Select(e => (string?)e.Security.Transport));
        Text(p, "tls_versions", batch.Select(e => e.Security.TlsVersion));
        Text(p, "tls_ciphers", batch.Select(e => e.Security.TlsCipher));
        Text(p, "spkis", batch.Select(e => e.Security.ClientSpki));
        Text(p, "auths", batch.Select(e => e.AuthUser));
        p.AddWithValue("messages", batch.Select(e => e.Messages).ToArray());
        Text(p, "reasons", batch.Select(e => (string?)e.EndReason));
        commands.BatchCommands.Add(update);
        await commands.ExecuteNonQueryAsync().ConfigureAwait(false);
        return batch.Select(_ => true).ToList();
    }

    private static void Text(NpgsqlParameterCollection parameters, string name, IEnumerable<string?> values) =>
        parameters.AddWithValue(name, NpgsqlDbType.Array | NpgsqlDbType.Text, values.ToArray());

    /// <summary>Writes what was already handed in.</summary>
    public async ValueTask DisposeAsync()
    {
        await starts.DisposeAsync().ConfigureAwait(false);
        await ends.DisposeAsync().ConfigureAwait(false);
    }
}
