using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Relay.Db.Web;

/// <summary>
/// The admin UI's sessions (web_sessions): shared by every web process on the database and kept across restarts.
/// Callers hold the random session id; only its SHA-256 reaches the table, so reading the table yields no usable id.
/// Times come from the caller's clock (the web role's TimeProvider), so idle expiry is testable without waiting.
/// </summary>
public sealed class WebSessionStore(NpgsqlDataSource dataSource)
{
    /// <summary>Use within this long of the last recorded use does not rewrite the row: a page view is a read, mostly.</summary>
    public static readonly TimeSpan TouchGranularity = TimeSpan.FromMinutes(1);

    /// <summary>Records a new session and removes every session idle for longer than <paramref name="idleLifetime"/>.</summary>
    public async Task StartAsync(string sessionId, string userName, DateTimeOffset now, TimeSpan idleLifetime, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var sweep = Command("delete from web_sessions where last_seen < @cutoff", ("cutoff", (now - idleLifetime).ToUniversalTime())))
        {
            sweep.Connection = connection;
            await sweep.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using var insert = Command("insert into web_sessions (id_hash, user_name, created_at, last_seen) values (@id, @user, @now, @now)",
            ("id", Hash(sessionId)), ("user", userName), ("now", now.ToUniversalTime()));
        insert.Connection = connection;
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// True while the session exists and was used within <paramref name="idleLifetime"/>; each use moves its idle
    /// deadline. An idle session's row is deleted here, so it cannot come back.
    /// </summary>
    public async Task<bool> TouchAsync(string sessionId, DateTimeOffset now, TimeSpan idleLifetime, CancellationToken cancellationToken)
    {
        var id = Hash(sessionId);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var update = Command("""
            update web_sessions set last_seen = @now
            where id_hash = @id and last_seen >= @cutoff and last_seen < @stale
            """, ("id", id), ("now", now.ToUniversalTime()), ("cutoff", (now - idleLifetime).ToUniversalTime()),
            ("stale", (now - TouchGranularity).ToUniversalTime())))
        {
            update.Connection = connection;
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1) return true;
        }
        // Not rewritten: either used a moment ago (live), or idle too long or gone (delete whatever is left).
        await using var check = Command("""
            with expired as (delete from web_sessions where id_hash = @id and last_seen < @cutoff)
            select exists (select 1 from web_sessions where id_hash = @id and last_seen >= @cutoff)
            """, ("id", id), ("cutoff", (now - idleLifetime).ToUniversalTime()));
        check.Connection = connection;
        return (bool)(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Logout: the row goes, so the cookie (and any copy of it) is refused from now on by every process.</summary>
    public async Task EndAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command("delete from web_sessions where id_hash = @id", ("id", Hash(sessionId)));
        command.Connection = connection;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many sessions are recorded (live or not yet swept): for tests and operators.</summary>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("select count(*) from web_sessions", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public static byte[] Hash(string sessionId) => SHA256.HashData(Encoding.UTF8.GetBytes(sessionId));

    private static NpgsqlCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }
}
