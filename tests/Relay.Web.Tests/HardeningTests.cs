using System.Net;
using System.Net.Sockets;
using System.Text;
using Relay.Web;
using Relay.Web.Pages;

namespace Relay.Web.Tests;

/// <summary>One test per finding of the security probe of the UI (issue 14, web hardening), against real Kestrel.</summary>
public sealed class HardeningTests(WebFixture web) : IClassFixture<WebFixture>
{
    private static async Task AssertRefusedAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Contains("Request refused", body);
        Assert.DoesNotContain("Database unavailable", body);
        Assert.Equal(WebHost.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Account_budget_holds_across_source_addresses_with_doubling_delays()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var url = await web.StartAsync(WebFixture.Options(lockoutThreshold: 3) with { Clock = clock, AccountDelay = TimeSpan.FromSeconds(10) });
        var attacker = 10;
        HttpClient Next() => WebFixture.ClientFrom(url, IPAddress.Parse($"127.0.0.{attacker++}"));
        // Three free failures, each from a fresh address, so the per-address lockout never starts.
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await WebFixture.LoginAsync(Next(), password: "guess " + i)).StatusCode);
        var lockout = await WebFixture.LoginAsync(Next(), password: "guess 3");
        Assert.Equal(HttpStatusCode.TooManyRequests, lockout.StatusCode);
        Assert.Contains("locked until 12:00:10 UTC (in 10 s)", await lockout.Content.ReadAsStringAsync());
        // Locked means locked: the right password from yet another address is refused too.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await WebFixture.LoginAsync(Next())).StatusCode);

        clock.Now += TimeSpan.FromSeconds(11);
        var second = await WebFixture.LoginAsync(Next(), password: "guess 4");
        Assert.Contains("(in 20 s)", await second.Content.ReadAsStringAsync());
        clock.Now += TimeSpan.FromSeconds(21);
        var third = await WebFixture.LoginAsync(Next(), password: "guess 5");
        Assert.Contains("(in 40 s)", await third.Content.ReadAsStringAsync());
        clock.Now += TimeSpan.FromSeconds(41);
        Assert.Equal(HttpStatusCode.Redirect, (await WebFixture.LoginAsync(Next())).StatusCode);
        // A success resets the budget; a wrong user name never spends it.
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await WebFixture.LoginAsync(Next(), user: "nobody", password: "x")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await WebFixture.LoginAsync(Next())).StatusCode);
    }

    private async Task<(HttpClient Client, string Token)> AnonymousFormAsync()
    {
        var client = WebFixture.Client(web.BaseUrl);
        return (client, WebFixture.FormToken(await client.GetStringAsync("/login")));
    }

    [Fact]
    public async Task Form_over_one_mebibyte_is_refused_with_400()
    {
        // The server may refuse and close before the whole body has been sent (which is right), and HttpClient then
        // reports a broken pipe instead of the answer; so the request goes over a raw socket and the answer is read anyway.
        var cookies = new CookieContainer();
        var client = WebFixture.Client(web.BaseUrl, cookies);
        var token = WebFixture.FormToken(await client.GetStringAsync("/login"));
        var body = Encoding.ASCII.GetBytes($"{WebHost.AntiforgeryFieldName}={Uri.EscapeDataString(token)}&user={new string('a', 1_100_000)}");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(web.BaseUrl.Host, web.BaseUrl.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var head = $"POST /login HTTP/1.1\r\nHost: {web.BaseUrl.Authority}\r\nCookie: {cookies.GetCookieHeader(web.BaseUrl)}\r\n" +
                   $"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        try { await stream.WriteAsync(body); } catch (IOException) { /* refused before the body was read: expected */ }
        var answer = new MemoryStream();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await stream.CopyToAsync(answer, limit.Token); } catch (IOException) { /* reset after the answer */ }
        var text = Encoding.UTF8.GetString(answer.ToArray());
        Assert.StartsWith("HTTP/1.1 400", text);
        Assert.Contains("Request refused", text);
        Assert.Contains($"Content-Security-Policy: {WebHost.ContentSecurityPolicy}", text);
        Assert.Contains("X-Frame-Options: DENY", text);
    }

    [Fact]
    public async Task Form_with_1100_fields_is_refused_with_400()
    {
        var (client, token) = await AnonymousFormAsync();
        var fields = Enumerable.Range(0, 1100).Select(i => ($"f{i}", "v")).Prepend((WebHost.AntiforgeryFieldName, token)).ToArray();
        await AssertRefusedAsync(await WebFixture.PostFormAsync(client, "/login", fields));
    }

    [Fact]
    public async Task Form_with_a_nul_is_refused_with_400()
    {
        var (client, token) = await AnonymousFormAsync();
        await AssertRefusedAsync(await WebFixture.PostFormAsync(client, "/login", (WebHost.AntiforgeryFieldName, token), ("user", "ad\0min"), ("password", "x")));
    }

    [Fact]
    public async Task Broken_multipart_body_is_refused_with_400()
    {
        var (client, token) = await AnonymousFormAsync();
        var body = $"--b\r\nContent-Disposition: form-data; name=\"{WebHost.AntiforgeryFieldName}\"\r\n\r\n{token}\r\n--b\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nadm";
        var content = new StringContent(body, Encoding.ASCII);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        await AssertRefusedAsync(await client.PostAsync("/login", content));
    }

    [Fact]
    public async Task Non_form_body_with_a_valid_token_is_refused_with_400()
    {
        var (client, token) = await AnonymousFormAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new StringContent("{\"user\":\"admin\",\"password\":\"x\"}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("RequestVerificationToken", token);
        await AssertRefusedAsync(await client.SendAsync(request));
    }

    [Fact]
    public async Task Nul_in_a_search_or_an_id_is_a_refusal_not_a_database_outage()
    {
        using var client = await web.LoggedInClientAsync();
        await AssertRefusedAsync(await client.GetAsync("/peers?q=%00"));
        await AssertRefusedAsync(await client.GetAsync("/api/peers?name=a%00b"));
        // A NUL in the path never reaches the application: Kestrel itself answers 400 (without a page) before routing.
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/queue/AB%00CD")).StatusCode);
        await AssertRefusedAsync(await client.GetAsync("/queue/AB%01CD"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/peers?q=example")).StatusCode);
    }

    [Theory]
    [InlineData("fe80::1%eth0/128", "zone")]
    [InlineData("1.2.3", "standard form")]
    [InlineData("127.1/32", "would be read as 127.0.0.1")]
    [InlineData("0x7f000001/32", "would be read as 127.0.0.1")]
    [InlineData("10.0.0.0/08", "leading zeros")]
    [InlineData("2001:db8::1/32", "did you mean 2001:db8::/32")]
    public async Task Ipsec_prefix_that_would_not_print_back_as_typed_is_refused(string prefix, string why)
    {
        using var client = await web.LoggedInClientAsync();
        var token = WebFixture.FormToken(await client.GetStringAsync("/policies"));
        var response = await WebFixture.PostFormAsync(client, "/policies/ipsec", (WebHost.AntiforgeryFieldName, token), ("prefix", prefix), ("class", "private"));
        var body = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Contains("data-field=\"prefix\"", body);
        Assert.Contains(why, body);
        Assert.DoesNotContain(await web.Db.Policies.ListIpsecAsync(CancellationToken.None), p => p.Prefix.StartsWith(prefix.Split('/')[0], StringComparison.Ordinal));
    }

    [Fact]
    public async Task Login_with_a_non_ascii_return_url_redirects_to_it_percent_encoded()
    {
        using var client = WebFixture.Client(web.BaseUrl);
        var form = await client.GetStringAsync("/login?ReturnUrl=/%E2%80%8B");
        var response = await WebFixture.PostFormAsync(client, "/login", (WebHost.AntiforgeryFieldName, WebFixture.FormToken(form)),
            ("user", WebFixture.User), ("password", WebFixture.Password), ("returnUrl", "/\u200B"));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/%E2%80%8B", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Foreign_host_header_is_refused_and_redirects_are_relative()
    {
        using var client = WebFixture.Client(web.BaseUrl);
        using var forged = new HttpRequestMessage(HttpMethod.Get, "/");
        forged.Headers.Host = "evil.example";
        await AssertRefusedAsync(await client.SendAsync(forged));
        using var local = new HttpRequestMessage(HttpMethod.Get, "/");
        local.Headers.Host = $"localhost:{web.BaseUrl.Port}";
        var redirect = await client.SendAsync(local);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.StartsWith("/login?ReturnUrl=", redirect.Headers.Location!.OriginalString);
        Assert.False(redirect.Headers.Location.IsAbsoluteUri);
        Assert.True(RequestGuards.HostAllowed(new("mx.example.org:8080"), ["mx.example.org"]));
        Assert.False(RequestGuards.HostAllowed(new("mx.example.org.evil.example"), ["mx.example.org"]));
    }

    [Fact]
    public async Task Fingerprint_and_name_lists_have_a_count_limit()
    {
        var prints = string.Join(' ', Enumerable.Range(0, 9000).Select(i => i.ToString("x64")));
        var (_, errors) = PolicyForm.ParseDestination("example.net", "fingerprint", prints, null, null);
        Assert.Contains(errors, e => e.Field == "fingerprints" && e.Message.Contains($"at most {PolicyForm.MaxFingerprints}"));
        var names = string.Join(' ', Enumerable.Range(0, PolicyForm.MaxMatchNames + 1).Select(i => $"mx{i}.example.net"));
        (_, errors) = PolicyForm.ParseDestination("example.net", "secure", null, names, null);
        Assert.Contains(errors, e => e.Field == "match names" && e.Message.Contains($"at most {PolicyForm.MaxMatchNames}"));

        using var client = await web.LoggedInClientAsync();
        var token = WebFixture.FormToken(await client.GetStringAsync("/policies"));
        var response = await WebFixture.PostFormAsync(client, "/policies", (WebHost.AntiforgeryFieldName, token), ("destination", "many.example"),
            ("level", "fingerprint"), ("fingerprints", string.Join(' ', Enumerable.Range(0, 9000).Select(i => i.ToString("x64")))));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(await web.Db.Policies.ListAsync(CancellationToken.None), p => p.Destination == "many.example");
    }

    [Fact]
    public void Plain_http_on_a_non_loopback_address_is_warned_about()
    {
        var open = WebFixture.Options() with { Listen = ["0.0.0.0:8080", "127.0.0.1:8081", "[::1]:8082"] };
        var warning = Assert.Single(WebWarnings.PlainHttpOnOpenAddresses(open));
        Assert.Contains("0.0.0.0:8080 over plain HTTP", warning);
        Assert.Empty(WebWarnings.PlainHttpOnOpenAddresses(WebFixture.Options()));
        Assert.Empty(WebWarnings.PlainHttpOnOpenAddresses(WebFixture.Options() with { Listen = [] }));
    }
}
