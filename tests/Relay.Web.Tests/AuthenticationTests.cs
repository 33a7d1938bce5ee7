using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Relay.Web;

namespace Relay.Web.Tests;

public sealed class AuthenticationTests(WebFixture web) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Pages_redirect_to_login_and_api_answers_401_without_a_session_while_health_is_open()
    {
        using var client = WebFixture.Client(web.BaseUrl);
        foreach (var path in new[] { "/", "/peers", "/queue", "/policies", "/inbound", $"/queue/{web.Data.DeferredQueueId}" })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/login", response.Headers.Location!.OriginalString.Replace(web.BaseUrl.ToString().TrimEnd('/'), ""));
        }
        foreach (var path in new[] { "/api/peers", "/api/messages", "/api/overview", "/export/peers.csv" })
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(path)).StatusCode);
        var health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok\n", await health.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Login_sets_an_httponly_samestrict_cookie_and_a_second_login_renews_the_session_id()
    {
        var cookies = new CookieContainer();
        using var client = WebFixture.Client(web.BaseUrl, cookies);
        var first = await WebFixture.LoginAsync(client);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        var setCookie = first.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(WebHost.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie.Replace("samesite", "", StringComparison.OrdinalIgnoreCase), StringComparison.OrdinalIgnoreCase);
        var firstSession = cookies.GetCookies(web.BaseUrl)[WebHost.CookieName]!.Value;

        var second = await WebFixture.LoginAsync(client);
        Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        var secondSession = cookies.GetCookies(web.BaseUrl)[WebHost.CookieName]!.Value;
        Assert.NotEqual(firstSession, secondSession);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await WithSessionCookie(firstSession).GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Logout_invalidates_the_session_even_for_a_kept_copy_of_the_cookie()
    {
        var cookies = new CookieContainer();
        using var client = WebFixture.Client(web.BaseUrl, cookies);
        await WebFixture.LoginAsync(client);
        var session = cookies.GetCookies(web.BaseUrl)[WebHost.CookieName]!.Value;
        using var copy = WithSessionCookie(session);
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/api/peers")).StatusCode);

        var page = await client.GetStringAsync("/");
        var logout = await WebFixture.PostFormAsync(client, "/logout", (WebHost.AntiforgeryFieldName, WebFixture.FormToken(page)));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await copy.GetAsync("/api/peers")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Wrong_password_is_refused_and_repeated_failures_lock_out_even_the_right_password()
    {
        var url = await web.StartAsync(WebFixture.Options(lockoutThreshold: 3));
        // Its own source address: the lockout is recorded in the database every role of this fixture shares.
        using var client = WebFixture.ClientFrom(url, IPAddress.Parse("127.0.0.3"));
        for (var i = 0; i < 3; i++)
        {
            var wrong = await WebFixture.LoginAsync(client, password: "guess " + i);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.False(wrong.Headers.Contains("Set-Cookie") && wrong.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith(WebHost.CookieName + "=", StringComparison.Ordinal)));
        }
        var locked = await WebFixture.LoginAsync(client);
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Contains("Too many failed logins", await locked.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Login_post_without_antiforgery_token_is_refused()
    {
        using var client = WebFixture.Client(web.BaseUrl);
        await client.GetStringAsync("/login");
        var response = await WebFixture.PostFormAsync(client, "/login", ("user", WebFixture.User), ("password", WebFixture.Password));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task State_changing_posts_without_a_valid_antiforgery_token_are_refused_and_change_nothing()
    {
        using var client = await web.LoggedInClientAsync();
        var queueId = web.Data.DeferredQueueId;
        var before = await web.Db.QueueReader.GetMessageAsync(queueId, CancellationToken.None);

        var missing = await WebFixture.PostFormAsync(client, $"/queue/{queueId}/hold");
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var forged = await WebFixture.PostFormAsync(client, $"/queue/{queueId}/delete", (WebHost.AntiforgeryFieldName, "CfDJ8forged-token"));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        // A token minted for someone else's (anonymous) session does not pass either.
        using var stranger = WebFixture.Client(web.BaseUrl);
        var strangerToken = WebFixture.FormToken(await stranger.GetStringAsync("/login"));
        var foreign = await WebFixture.PostFormAsync(client, "/policies", (WebHost.AntiforgeryFieldName, strangerToken), ("destination", "csrf.example"), ("level", "none"));
        Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);

        var after = await web.Db.QueueReader.GetMessageAsync(queueId, CancellationToken.None);
        Assert.Equal(before!.Recipients.Select(r => r.State), after!.Recipients.Select(r => r.State));
        Assert.DoesNotContain(await web.Db.Policies.ListAsync(CancellationToken.None), p => p.Destination == "csrf.example");
    }

    [Fact]
    public async Task Get_requests_never_change_state_even_on_action_urls()
    {
        using var client = await web.LoggedInClientAsync();
        var queueId = web.Data.HoldQueueId;
        var confirm = await client.GetAsync($"/queue/{queueId}/confirm?action=delete");
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.GetAsync($"/queue/{queueId}/delete")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.GetAsync("/logout")).StatusCode);
        Assert.NotNull(await web.Db.QueueReader.GetMessageAsync(queueId, CancellationToken.None));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);   // still logged in
    }

    [Fact]
    public async Task Every_page_carries_a_csp_without_script_and_framing_is_denied()
    {
        using var client = await web.LoggedInClientAsync();
        foreach (var path in new[] { "/login", "/", "/peers", "/queue", "/policies", "/inbound", "/api/peers" })
        {
            var response = await client.GetAsync(path);
            var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("default-src 'none'", csp);
            Assert.DoesNotContain("script-src", csp);
            Assert.DoesNotContain("unsafe-inline", csp);
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        }
    }

    [Fact]
    public void Without_a_password_hash_the_web_role_refuses_to_start_and_says_why()
    {
        var missing = Assert.Throws<WebConfigurationException>(() => WebHost.Build(new WebOptions(["127.0.0.1:0"], "admin", null), web.Db));
        Assert.Contains("Relay:Web:AdminPasswordHash", missing.Message);
        Assert.Contains("relay web hash-password", missing.Message);
        var malformed = Assert.Throws<WebConfigurationException>(() => WebHost.Build(new WebOptions(["127.0.0.1:0"], "admin", "hunter2"), web.Db));
        Assert.Contains("unusable", malformed.Message);
        var badListen = Assert.Throws<WebConfigurationException>(() => WebHost.Build(new WebOptions(["everywhere"], "admin", WebFixture.PasswordHash), web.Db));
        Assert.Contains("everywhere", badListen.Message);
    }

    [Fact]
    public async Task Over_tls_the_session_cookie_is_marked_secure()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        // Kestrel needs a certificate whose private key it can use from a PKCS#12 import.
        var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        var url = await web.StartAsync(WebFixture.Options() with { Certificate = certificate });
        Assert.Equal("https", url.Scheme);
        var handler = new HttpClientHandler
        {
            CookieContainer = new CookieContainer(),
            AllowAutoRedirect = false,
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == certificate.Thumbprint,
        };
        using var client = WebFixture.Client(url, handler: handler);
        var response = await WebFixture.LoginAsync(client);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var setCookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(WebHost.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("; secure", setCookie, StringComparison.OrdinalIgnoreCase);
    }

    private HttpClient WithSessionCookie(string value)
    {
        var cookies = new CookieContainer();
        cookies.Add(web.BaseUrl, new Cookie(WebHost.CookieName, value));
        return WebFixture.Client(web.BaseUrl, cookies);
    }
}
