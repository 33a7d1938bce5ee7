using Npgsql;

namespace Relay.Db.Web;

/// <summary>What the shared throttle made of one login attempt (web_login_attempt in migration 0009).</summary>
public enum LoginThrottleOutcome
{
    /// <summary>Refused unchecked: the client address is locked out.</summary>
    AddressLocked,
    /// <summary>Refused unchecked: the admin account is locked out (from any address, even for the right password).</summary>
    AccountLocked,
    /// <summary>A failure, counted.</summary>
    Failed,
    /// <summary>A failure, counted, that started a lockout of the account.</summary>
    AccountLockout,
    /// <summary>The right user name and password while nothing was locked: both counts reset.</summary>
    Succeeded,
}

/// <param name="Address">The client's address (the per-address count).</param>
/// <param name="Account">The configured admin user name (the per-account count): never what the client typed.</param>
/// <param name="AccountGuessed">The client typed the admin user name: only such guesses spend the account's budget.</param>
/// <param name="Succeeded">User name and password were both right.</param>
public sealed record LoginAttempt(string Address, string Account, bool AccountGuessed, bool Succeeded, DateTimeOffset Now);

/// <param name="Threshold">Consecutive failures that lock an address; also the account's free failures.</param>
/// <param name="AddressLockout">How long an address stays locked.</param>
/// <param name="FirstAccountDelay">The account's first lockout; each further failure doubles it, up to <paramref name="MaxAccountDelay"/>.</param>
/// <param name="Forget">A row this quiet (no failure, no lock in force) is forgotten.</param>
public sealed record LoginLimits(int Threshold, TimeSpan AddressLockout, TimeSpan FirstAccountDelay, TimeSpan MaxAccountDelay, TimeSpan Forget);

/// <summary>
/// The admin login throttle's rows (web_login_throttle), shared by every web process of the database, so spreading
/// guesses over several processes gains nothing. Each attempt is one call of web_login_attempt: one round trip that
/// takes row locks on the address and the account, so concurrent attempts on any process count exactly once.
/// </summary>
public sealed class LoginThrottleStore(NpgsqlDataSource dataSource)
{
    /// <returns>The outcome, and for a lock how long it lasts from <see cref="LoginAttempt.Now"/>.</returns>
    public async Task<(LoginThrottleOutcome Outcome, TimeSpan? Wait)> AttemptAsync(LoginAttempt attempt, LoginLimits limits,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select outcome, wait from web_login_attempt(@address, @account, @guessed, @succeeded, @now,
                @threshold, @address_lockout, @first_delay, @max_delay, @forget)
            """, connection);
        command.Parameters.AddWithValue("address", attempt.Address);
        command.Parameters.AddWithValue("account", attempt.Account);
        command.Parameters.AddWithValue("guessed", attempt.AccountGuessed);
        command.Parameters.AddWithValue("succeeded", attempt.Succeeded);
        command.Parameters.AddWithValue("now", attempt.Now.ToUniversalTime());
        command.Parameters.AddWithValue("threshold", limits.Threshold);
        command.Parameters.AddWithValue("address_lockout", limits.AddressLockout);
        command.Parameters.AddWithValue("first_delay", limits.FirstAccountDelay);
        command.Parameters.AddWithValue("max_delay", limits.MaxAccountDelay);
        command.Parameters.AddWithValue("forget", limits.Forget);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            throw new InvalidOperationException("web_login_attempt returned no row");
        var outcome = reader.GetString(0) switch
        {
            "address-locked" => LoginThrottleOutcome.AddressLocked,
            "account-locked" => LoginThrottleOutcome.AccountLocked,
            "failed" => LoginThrottleOutcome.Failed,
            "account-lockout" => LoginThrottleOutcome.AccountLockout,
            "succeeded" => LoginThrottleOutcome.Succeeded,
            var other => throw new InvalidOperationException($"web_login_attempt returned an unknown outcome '{other}'"),
        };
        return (outcome, reader.IsDBNull(1) ? null : reader.GetFieldValue<TimeSpan>(1));
    }

    /// <summary>How many rows the throttle holds now (for tests and operators: rows age out).</summary>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("select count(*) from web_login_throttle", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
