using System.Net;
using Npgsql;
using Relay.Web;

namespace Relay.Web.Tests;

/// <summary>
/// The login throttles live in PostgreSQL (migration 0009): two web roles on one database, each a separate host on real
/// Kestrel with its own services, count the same failures, so spreading guesses over processes gains nothing. Both
/// roles share one moved clock, as processes share real time.
/// </summary>
public sealed class SharedLoginThrottleTests(WebFixture web) : IClassFixture<WebFixture>
{
    private static WebOptions Options(TimeProvider clock) =>
        WebFixture.Options(lockoutThreshold: 3) with { Clock = clock, LockoutDuration = TimeSpan.FromMinutes(5), AccountDelay = TimeSpan.FromSeconds(10) };

    private async Task<(Uri One, Uri Two, ManualClock Clock)> TwoRolesAsync()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        return (await web.StartAsync(Options(clock)), await web.StartAsync(Options(clock)), clock);
    }

    private static Task<HttpResponseMessage> LoginFrom(Uri url, string address, string password = WebFixture.Password, string user = WebFixture.User) =>
        WebFixture.LoginAsync(WebFixture.ClientFrom(url, IPAddress.Parse(address)), user, password);

    [Fact]
    public async Task Address_failures_on_one_process_count_on_the_other_and_the_lockout_ends_after_its_time()
    {
        var (one, two, clock) = await TwoRolesAsync();
        // A wrong user name: only the per-address count moves, so the account budget plays no part here.
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(one, "127.0.0.40", "guess 1", user: "nobody")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(two, "127.0.0.40", "guess 2", user: "nobody")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(one, "127.0.0.40", "guess 3", user: "nobody")).StatusCode);
        // The third failure, two of them on the other process, locked the address on both: even the right password.
        var locked = await LoginFrom(two, "127.0.0.40");
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Contains("Too many failed logins from this address. Try again in 300 s.", await locked.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await LoginFrom(one, "127.0.0.40")).StatusCode);
        // Another address is not locked.
        Assert.Equal(HttpStatusCode.Redirect, (await LoginFrom(one, "127.0.0.41")).StatusCode);

        clock.Now += TimeSpan.FromMinutes(4);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await LoginFrom(one, "127.0.0.40")).StatusCode);
        clock.Now += TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1);
        Assert.Equal(HttpStatusCode.Redirect, (await LoginFrom(two, "127.0.0.40")).StatusCode);
    }

    [Fact]
    public async Task A_success_on_either_process_resets_the_count_of_both()
    {
        var (one, two, _) = await TwoRolesAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(one, "127.0.0.50", "guess 1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(two, "127.0.0.50", "guess 2")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await LoginFrom(two, "127.0.0.50")).StatusCode);
        Assert.Equal(0, await RowsAsync("127.0.0.50"));
        // Two more failures after the reset do not reach the threshold of three.
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(one, "127.0.0.50", "guess 3")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(two, "127.0.0.50", "guess 4")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await LoginFrom(one, "127.0.0.50")).StatusCode);
    }

    [Fact]
    public async Task The_account_budget_is_shared_and_its_lockout_ends_after_its_time_and_no_password_is_stored()
    {
        var (one, two, clock) = await TwoRolesAsync();
        // Three free failures, each from a fresh address and alternating processes, then the fourth locks the account.
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(one, "127.0.0.60", "secret guess 1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(two, "127.0.0.61", "secret guess 2")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(one, "127.0.0.62", "secret guess 3")).StatusCode);
        var lockout = await LoginFrom(two, "127.0.0.63", "secret guess 4");
        Assert.Equal(HttpStatusCode.TooManyRequests, lockout.StatusCode);
        Assert.Contains("locked until 12:00:10 UTC (in 10 s)", await lockout.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await LoginFrom(one, "127.0.0.64")).StatusCode);

        // What the table holds: addresses and the configured account name, never what was typed.
        var stored = await StoredTextAsync();
        Assert.Contains("127.0.0.63", stored);
        Assert.Contains(WebFixture.User, stored);
        Assert.DoesNotContain("secret guess", stored);

        clock.Now += TimeSpan.FromSeconds(11);
        Assert.Equal(HttpStatusCode.Redirect, (await LoginFrom(one, "127.0.0.64")).StatusCode);
        // Rows age out: a failure a day ago is gone at the next attempt anywhere.
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(two, "127.0.0.65", "secret guess 5", user: "nobody")).StatusCode);
        Assert.Equal(1, await RowsAsync("127.0.0.65"));
        clock.Now += TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFrom(one, "127.0.0.66", "x", user: "nobody")).StatusCode);
        Assert.Equal(0, await RowsAsync("127.0.0.65"));
    }

    private async Task<long> RowsAsync(string subject)
    {
        await using var connection = new NpgsqlConnection(web.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select count(*) from web_login_throttle where subject = @s", connection);
        command.Parameters.AddWithValue("s", subject);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<string> StoredTextAsync()
    {
        await using var connection = new NpgsqlConnection(web.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select coalesce(string_agg(t::text, E'\\n'), '') from web_login_throttle t", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
