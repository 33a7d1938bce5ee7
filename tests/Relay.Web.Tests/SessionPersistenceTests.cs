using System.Net;
using Npgsql;
using Relay.Web;

namespace Relay.Web.Tests;

/// <summary>
/// Sessions and the Data Protection key ring live in PostgreSQL (migration 0008): a login and a form's anti-forgery
/// token outlive the web role that issued them and work on any other web role of the database. Each role here is a
/// separate host (its own services, key ring cache and throttles) on real Kestrel; only the database is shared.
/// </summary>
public sealed class SessionPersistenceTests(WebFixture web) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Session_cookie_and_form_token_survive_a_restart_and_work_on_a_second_process()
    {
        var first = await web.StartAsync(WebFixture.Options());
        var cookies = new CookieContainer();   // cookies are per host, not per port: every role on 127.0.0.1 receives them
        using var before = WebFixture.Client(first, cookies);
        Assert.Equal(HttpStatusCode.Redirect, (await WebFixture.LoginAsync(before)).StatusCode);
        var token = WebFixture.FormToken(await before.GetStringAsync("/policies"));
        await web.StopAsync(first);

        var restarted = await web.StartAsync(WebFixture.Options());
        var other = await web.StartAsync(WebFixture.Options());
        using var afterRestart = WebFixture.Client(restarted, cookies);
        using var onOther = WebFixture.Client(other, cookies);
        var page = await afterRestart.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Log out", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await onOther.GetAsync("/api/peers")).StatusCode);

        // The token from the page the stopped process rendered still passes anti-forgery on both others.
        var saved = await WebFixture.PostFormAsync(afterRestart, "/policies", (WebHost.AntiforgeryFieldName, token),
            ("destination", "restart.example"), ("level", "encrypt"));
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal("/policies?done=policy-saved", saved.Headers.Location?.OriginalString);
        var savedOther = await WebFixture.PostFormAsync(onOther, "/policies", (WebHost.AntiforgeryFieldName, token),
            ("destination", "other.example"), ("level", "encrypt"));
        Assert.Equal(HttpStatusCode.Redirect, savedOther.StatusCode);
        var policies = await web.Db.Policies.ListAsync(CancellationToken.None);
        Assert.Contains(policies, p => p.Destination == "restart.example");
        Assert.Contains(policies, p => p.Destination == "other.example");
        // A forged token is still refused: the shared key ring is not a way around the check.
        Assert.Equal(HttpStatusCode.BadRequest, (await WebFixture.PostFormAsync(onOther, "/policies",
            (WebHost.AntiforgeryFieldName, token[..^4] + "AAAA"), ("destination", "forged.example"), ("level", "none"))).StatusCode);
    }

    [Fact]
    public async Task Logout_on_one_process_deletes_the_row_and_ends_the_session_on_every_process()
    {
        var one = await web.StartAsync(WebFixture.Options());
        var two = await web.StartAsync(WebFixture.Options());
        var cookies = new CookieContainer();
        using var client = WebFixture.Client(one, cookies);
        var rowsBefore = await web.Db.WebSessions.CountAsync(CancellationToken.None);
        await WebFixture.LoginAsync(client);
        Assert.Equal(rowsBefore + 1, await web.Db.WebSessions.CountAsync(CancellationToken.None));
        var session = cookies.GetCookies(one)[WebHost.CookieName]!.Value;
        using var copyOnTwo = WithSessionCookie(two, session);
        Assert.Equal(HttpStatusCode.OK, (await copyOnTwo.GetAsync("/api/peers")).StatusCode);

        var logout = await WebFixture.PostFormAsync(client, "/logout", (WebHost.AntiforgeryFieldName, WebFixture.FormToken(await client.GetStringAsync("/"))));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(rowsBefore, await web.Db.WebSessions.CountAsync(CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, (await copyOnTwo.GetAsync("/api/peers")).StatusCode);
    }

    [Fact]
    public async Task An_idle_session_expires_and_its_row_is_deleted_and_the_store_keeps_only_a_hash_of_the_id()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var url = await web.StartAsync(WebFixture.Options() with { Clock = clock, SessionLifetime = TimeSpan.FromMinutes(30) });
        var cookies = new CookieContainer();
        using var client = WebFixture.Client(url, cookies);
        await WebFixture.LoginAsync(client);
        clock.Now += TimeSpan.FromMinutes(20);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/peers")).StatusCode);   // use moves the idle deadline
        clock.Now += TimeSpan.FromMinutes(20);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/peers")).StatusCode);
        var rows = await SessionRowsAsync();
        Assert.Contains(rows, r => r.LastSeen == Truncated(clock.Now));
        Assert.All(rows, r => Assert.Equal(32, r.IdHash.Length));

        var lastUse = Truncated(clock.Now);
        clock.Now += TimeSpan.FromMinutes(31);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/peers")).StatusCode);
        // The idle row is deleted when it is refused or, at the latest, by the sweep of the next login anywhere.
        using var next = WebFixture.Client(url);
        await WebFixture.LoginAsync(next);
        Assert.DoesNotContain(await SessionRowsAsync(), r => r.LastSeen == lastUse);
        // Going back in time does not revive it: the row is gone.
        clock.Now -= TimeSpan.FromMinutes(31);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/peers")).StatusCode);
    }

    private async Task<List<(byte[] IdHash, DateTimeOffset LastSeen)>> SessionRowsAsync()
    {
        await using var connection = new NpgsqlConnection(web.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select id_hash, last_seen from web_sessions", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(byte[], DateTimeOffset)>();
        while (await reader.ReadAsync()) rows.Add(((byte[])reader[0], reader.GetFieldValue<DateTimeOffset>(1)));
        return rows;
    }

    // PostgreSQL keeps microseconds.
    private static DateTimeOffset Truncated(DateTimeOffset time) => new(time.UtcTicks - time.UtcTicks % 10, TimeSpan.Zero);

    private static HttpClient WithSessionCookie(Uri url, string value)
    {
        var cookies = new CookieContainer();
        cookies.Add(url, new Cookie(WebHost.CookieName, value));
        return WebFixture.Client(url, cookies);
    }
}
