using System.Net;
using System.Text.Json;
using Relay.Db;
using Relay.Web;
using Relay.Web.Api;

namespace Relay.Web.Tests;

public sealed class PagesAndApiTests(WebFixture web) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Peers_filter_cleartext_in_the_last_day_excludes_an_older_cleartext_attempt_that_the_last_week_finds()
    {
        var day = await web.Db.PeerReader.ListPeersAsync(new PeerFilter(Transport: "cleartext", Within: TimeSpan.FromDays(1)), new Page(), CancellationToken.None);
        Assert.Equal([TestData.Cleartext.Name], day.Select(p => p.Name));
        var week = await web.Db.PeerReader.ListPeersAsync(new PeerFilter(Transport: "cleartext", Within: TimeSpan.FromDays(7)), new Page(), CancellationToken.None);
        Assert.Equal([TestData.Trusted.Name, TestData.Cleartext.Name], week.Select(p => p.Name).Order(StringComparer.Ordinal));
        var latest = await web.Db.PeerReader.ListPeersAsync(new PeerFilter(Transport: "trusted"), new Page(), CancellationToken.None);
        Assert.Equal([TestData.Trusted.Name], latest.Select(p => p.Name));
        var worse = await web.Db.PeerReader.ListPeersAsync(new PeerFilter(DowngradedOnly: true), new Page(), CancellationToken.None);
        Assert.Equal([TestData.Downgraded.Name], worse.Select(p => p.Name));
        var search = await web.Db.PeerReader.ListPeersAsync(new PeerFilter(Search: "%"), new Page(), CancellationToken.None);
        Assert.Empty(search);   // LIKE wildcards in the search box are literal
    }

    [Fact]
    public async Task Overview_counts_attempts_by_transport_and_network_per_period_and_the_queue()
    {
        var overview = await web.Db.OverviewReader.GetOverviewAsync(CancellationToken.None);
        var hour = overview.Periods.Single(p => p.Period == "hour");
        var week = overview.Periods.Single(p => p.Period == "week");
        Assert.Equal(1, hour.ByTransport["verified"]);
        Assert.Equal(1, hour.ByTransport["trusted"]);
        Assert.Equal(1, hour.ByTransport["cleartext"]);
        Assert.Equal(2, hour.ByTransport["encrypted"]);
        Assert.Equal(1, hour.ByNetwork["ipsec-anonymous"]);
        Assert.Equal(2, week.ByTransport["cleartext"]);
        Assert.Equal(2, overview.Queue.Deferred);
        Assert.Equal([TestData.Downgraded.Name], overview.Downgraded.Select(p => p.Name));
        Assert.Equal(1, overview.InboundLastDay["cleartext"]);
    }

    [Fact]
    public async Task Overview_page_shows_queue_counts_and_a_chart_without_claiming_more_than_stored()
    {
        using var client = await web.LoggedInClientAsync();
        var html = await client.GetStringAsync("/");
        Assert.Contains("<svg class=\"chart\"", html);
        Assert.Contains("<rect class=\"cleartext\"", html);
        Assert.Contains("id=\"deferred\">2<", html);
        Assert.Contains(TestData.Downgraded.Name, html);
        Assert.DoesNotContain("<script", html);
    }

    [Fact]
    public async Task Policy_form_names_the_bad_field_and_saves_a_valid_policy()
    {
        using var client = await web.LoggedInClientAsync();
        async Task<HttpResponseMessage> Save(params (string, string)[] fields)
        {
            var token = WebFixture.FormToken(await client.GetStringAsync("/policies"));
            return await WebFixture.PostFormAsync(client, "/policies", [(WebHost.AntiforgeryFieldName, token), .. fields]);
        }
        var badLevel = await Save(("destination", "example.net"), ("level", "paranoid"));
        Assert.Equal(HttpStatusCode.BadRequest, badLevel.StatusCode);
        var body = await badLevel.Content.ReadAsStringAsync();
        Assert.Contains("data-field=\"level\"", body);
        Assert.Contains("value=\"example.net\"", body);   // what was typed comes back
        Assert.DoesNotContain("data-field=\"destination\"", body);

        var noPrints = await Save(("destination", "example.net"), ("level", "fingerprint"));
        Assert.Contains("data-field=\"fingerprints\"", await noPrints.Content.ReadAsStringAsync());
        var badDestination = await Save(("destination", "exa mple.net/<b>"), ("level", "dane"));
        Assert.Contains("data-field=\"destination\"", await badDestination.Content.ReadAsStringAsync());
        Assert.Empty(await web.Db.Policies.ListAsync(CancellationToken.None));

        var ok = await Save(("destination", ".Example.NET"), ("level", "fingerprint"), ("fingerprints", TestData.Spki), ("note", "pinned"));
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        var saved = Assert.Single(await web.Db.Policies.ListAsync(CancellationToken.None));
        Assert.Equal((".example.net", "fingerprint", TestData.Spki), (saved.Destination, saved.Level, saved.Fingerprints.Single()));

        var token = WebFixture.FormToken(await client.GetStringAsync("/policies"));
        var badPrefix = await WebFixture.PostFormAsync(client, "/policies/ipsec", (WebHost.AntiforgeryFieldName, token), ("prefix", "192.0.2.1/24"), ("class", "private"));
        Assert.True(badPrefix.StatusCode == HttpStatusCode.BadRequest, badPrefix.StatusCode + await badPrefix.Content.ReadAsStringAsync());
        Assert.Contains("data-field=\"prefix\"", await badPrefix.Content.ReadAsStringAsync());
        var goodPrefix = await WebFixture.PostFormAsync(client, "/policies/ipsec", (WebHost.AntiforgeryFieldName, token), ("prefix", "192.0.2.0/24"), ("class", "private"));
        Assert.Equal(HttpStatusCode.Redirect, goodPrefix.StatusCode);
        Assert.Equal("192.0.2.0/24", Assert.Single(await web.Db.Policies.ListIpsecAsync(CancellationToken.None)).Prefix);

        var delete = await WebFixture.PostFormAsync(client, "/policies/delete", (WebHost.AntiforgeryFieldName, token), ("destination", ".example.net"));
        Assert.Equal(HttpStatusCode.Redirect, delete.StatusCode);
        Assert.Empty(await web.Db.Policies.ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Json_api_lists_are_paged_and_carry_the_stored_words()
    {
        using var client = await web.LoggedInClientAsync();
        using var all = JsonDocument.Parse(await client.GetStringAsync("/api/peers?limit=100"));
        var names = all.RootElement.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Equal(5, names.Count);
        using var second = JsonDocument.Parse(await client.GetStringAsync("/api/peers?offset=1&limit=1"));
        Assert.Equal(1, second.RootElement.GetProperty("offset").GetInt32());
        Assert.Equal(names[1], Assert.Single(second.RootElement.GetProperty("items").EnumerateArray()).GetProperty("name").GetString());

        using var trusted = JsonDocument.Parse(await client.GetStringAsync("/api/peers?transport=trusted"));
        var peer = Assert.Single(trusted.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("trusted", peer.GetProperty("lastTransport").GetString());

        foreach (var path in new[] { "/api/messages", "/api/attempts", "/api/inbound", "/api/inbound/senders", "/api/policies", "/api/ipsec", "/api/overview",
                     $"/api/messages/{web.Data.DeferredQueueId}", $"/api/peers/attempts?name={TestData.Cleartext.Name}&address={TestData.Cleartext.Address}",
                     $"/api/peers/detail?name={TestData.Verified.Name}&address={TestData.Verified.Address}" })
        {
            var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, path);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/messages/nope")).StatusCode);

        using var weakest = JsonDocument.Parse(await client.GetStringAsync("/api/peers?sort=weakest"));
        Assert.Equal(TestData.Cleartext.Name, weakest.RootElement.GetProperty("items")[0].GetProperty("name").GetString());
        using var bounced = JsonDocument.Parse(await client.GetStringAsync("/api/messages?state=bounced"));
        Assert.Equal(web.Data.XssQueueId, Assert.Single(bounced.RootElement.GetProperty("items").EnumerateArray()).GetProperty("queueId").GetString());
    }

    [Fact]
    public async Task Csv_export_neutralises_formula_leading_cells()
    {
        Assert.Equal("\"'=1+1\"", CsvExport.Cell("=1+1"));
        Assert.Equal("\"'@SUM(A1)\"", CsvExport.Cell("@SUM(A1)"));
        Assert.Equal("\"'-2\"", CsvExport.Cell("-2"));
        Assert.Equal("\"a \"\"quoted\"\" b\"", CsvExport.Cell("a \"quoted\" b"));
        using var client = await web.LoggedInClientAsync();
        var csv = await client.GetStringAsync("/export/attempts.csv");
        Assert.Contains("\"'=HYPERLINK(", csv);   // a certificate subject starting with = is kept, but never as a live formula
        Assert.DoesNotContain(",\"=", csv);
        Assert.DoesNotContain(",\"@", csv);
        Assert.DoesNotContain(",\"+", csv);
    }

    [Fact]
    public async Task Queue_actions_go_through_a_confirmation_page_and_a_post()
    {
        using var client = await web.LoggedInClientAsync();
        var queueId = web.Data.HoldQueueId;
        var confirm = await client.GetStringAsync($"/queue/{queueId}/confirm?action=hold");
        Assert.Contains($"action=\"/queue/{queueId}/hold\"", confirm);
        var hold = await WebFixture.PostFormAsync(client, $"/queue/{queueId}/hold", (WebHost.AntiforgeryFieldName, WebFixture.FormToken(confirm)));
        Assert.Equal(HttpStatusCode.Redirect, hold.StatusCode);
        Assert.Equal("held", (await web.Db.QueueReader.GetMessageAsync(queueId, CancellationToken.None))!.Recipients.Single().State);

        var release = await WebFixture.PostFormAsync(client, $"/queue/{queueId}/release", (WebHost.AntiforgeryFieldName, WebFixture.FormToken(confirm)));
        Assert.Equal(HttpStatusCode.Redirect, release.StatusCode);
        Assert.Equal("deferred", (await web.Db.QueueReader.GetMessageAsync(queueId, CancellationToken.None))!.Recipients.Single().State);
    }

    [Fact]
    public async Task Bounce_from_the_queue_page_records_a_request_for_delivery_and_changes_nothing_else()
    {
        using var client = await web.LoggedInClientAsync();
        var queueId = await web.Db.Queue.EnqueueAsync(new NewMessage("sender@bounce.example", "Subject: b\r\n\r\nx\r\n"u8.ToArray(), "192.0.2.9",
            "client.bounce.example", InboundSecurity.Cleartext), [new NewRecipient("rcpt@far.example")], CancellationToken.None);

        var confirm = await client.GetStringAsync($"/queue/{queueId}/confirm?action=bounce");
        Assert.Contains($"action=\"/queue/{queueId}/bounce\"", confirm);
        var bounce = await WebFixture.PostFormAsync(client, $"/queue/{queueId}/bounce", (WebHost.AntiforgeryFieldName, WebFixture.FormToken(confirm)));

        Assert.Equal(HttpStatusCode.Redirect, bounce.StatusCode);
        Assert.EndsWith("done=bounce-requested", bounce.Headers.Location!.ToString());
        // The web UI never bounces itself: the recipient waits, flagged, for a delivery worker.
        Assert.Equal("queued", (await web.Db.QueueReader.GetMessageAsync(queueId, CancellationToken.None))!.Recipients.Single().State);
    }

    [Fact]
    public async Task Peer_detail_shows_downgrade_and_key_change_warnings_tlsa_seen_and_the_chain()
    {
        using var client = await web.LoggedInClientAsync();
        var html = await client.GetStringAsync($"/peers/detail?name={TestData.Downgraded.Name}&address={TestData.Downgraded.Address}");
        Assert.Contains("class=\"warning downgrade\"", html);
        Assert.Contains("The certificate key changed", html);
        Assert.Contains("2 1 1 " + TestData.Spki, html);                  // the secure TLSA answer seen earlier
        Assert.Contains("lookup failing (error)", html);                    // and the failing lookup now
        Assert.Contains("tlsa-lookup-failed", html);

        var secure = await client.GetStringAsync($"/peers/detail?name={TestData.Verified.Name}&address={TestData.Verified.Address}");
        Assert.Contains("CN=mx1.secure.example\nCN=Example CA", WebUtility.HtmlDecode(secure));   // one subject per line
        Assert.DoesNotContain("class=\"warning", secure);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/peers/detail?name=nobody.example&address=192.0.2.99")).StatusCode);
    }

    [Fact]
    public async Task Inbound_page_lists_cleartext_senders_when_filtered()
    {
        using var client = await web.LoggedInClientAsync();
        var html = await client.GetStringAsync("/inbound?transport=cleartext&within=day");
        Assert.Contains("legacy.sender.example", html);
        Assert.Contains("198.51.100.7", html);
        Assert.DoesNotContain("203.0.113.66", html);
    }

    private static async Task AssertDatabaseUnavailableAsync(HttpResponseMessage page)
    {
        var body = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)page.StatusCode}: {body}");
        Assert.Contains("Database unavailable", body);
        Assert.Contains("default-src 'none'", string.Join(";", page.Headers.GetValues("Content-Security-Policy")));
    }

    [Fact]
    public async Task Without_a_database_health_answers_503_and_pages_say_so_with_the_same_headers()
    {
        var port = Relay.TestKit.Processes.FreeTcpPort(IPAddress.Loopback);
        await using var unreachable = new RelayDatabase($"Host=127.0.0.1;Port={port};Username=nobody;Database=nothing;Timeout=3");
        var app = WebHost.Build(WebFixture.Options(), unreachable);
        await app.StartAsync();
        try
        {
            var url = new Uri(WebHost.BoundUrls(app).Single());
            // Sessions and the key ring live in the database, so without it even the login form cannot be served: it says so.
            using var anonymous = WebFixture.Client(url);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await anonymous.GetAsync("/health")).StatusCode);
            await AssertDatabaseUnavailableAsync(await anonymous.GetAsync("/login"));
            // A session made on a healthy web role cannot be opened either (its key is in the database): the page sends the
            // browser to the login form, which says why, and shows nothing else.
            var cookies = new CookieContainer();
            using var healthy = WebFixture.Client(web.BaseUrl, cookies);
            await WebFixture.LoginAsync(healthy);
            using var client = WebFixture.Client(url, cookies);
            var peers = await client.GetAsync("/peers");
            Assert.Equal(HttpStatusCode.Redirect, peers.StatusCode);
            Assert.StartsWith("/login", peers.Headers.Location?.OriginalString);
            await AssertDatabaseUnavailableAsync(await client.GetAsync(peers.Headers.Location));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
