using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Relay.Db;

namespace Relay.Web.Tests;

/// <summary>The admin UI in a real browser against real Kestrel and PostgreSQL, as an operator uses it.</summary>
public sealed class BrowserTests(WebFixture web, BrowserFixture browser) : IClassFixture<WebFixture>, IClassFixture<BrowserFixture>
{
    private async Task<IPage> LoggedInPageAsync()
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = web.BaseUrl.ToString().TrimEnd('/') });
        context.SetDefaultTimeout(20_000);   // generous: CI shares two cores with builds
        var page = await context.NewPageAsync();
        await page.GotoAsync("/peers");
        Assert.Matches("/login", page.Url);
        await page.FillAsync("input[name=user]", WebFixture.User);
        await page.FillAsync("input[name=password]", WebFixture.Password);
        await page.ClickAsync("form.login button[type=submit]");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/peers$"));   // back where the login interrupted
        return page;
    }

    /// <summary>Writes a full-page screenshot to the test output directory (bin/…/screenshots).</summary>
    private static async Task<string> Screenshot(IPage page, string name)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    [Fact]
    public async Task Operator_logs_in_sees_the_cleartext_peer_flagged_and_the_overview_is_screenshotted()
    {
        var page = await LoggedInPageAsync();
        await Screenshot(page, "peers.png");
        var row = page.Locator("table.peers tr", new PageLocatorOptions { Has = page.Locator($"a:text-is('{TestData.Cleartext.Name}')") });
        Assert.Contains("row-cleartext", await row.GetAttributeAsync("class") ?? "");
        Assert.Equal("⚠ cleartext", await row.Locator(".badge.t-cleartext").First.TextContentAsync());
        // trusted and verified are shown as different words with different marks
        var trusted = page.Locator("table.peers tr", new PageLocatorOptions { Has = page.Locator($"a:text-is('{TestData.Trusted.Name}')") });
        Assert.Equal("✔ trusted", await trusted.Locator(".badge.t-trusted").First.TextContentAsync());
        var worse = page.Locator("table.peers tr", new PageLocatorOptions { Has = page.Locator($"a:text-is('{TestData.Downgraded.Name}')") });
        Assert.Contains("got worse (was verified)", await worse.TextContentAsync());

        await page.GotoAsync("/");
        Assert.Equal("2", await page.Locator("#deferred").TextContentAsync());
        Assert.Equal(3, await page.Locator("svg.chart").First.Locator("text:text-matches('^(hour|day|week)$')").CountAsync());
        var path = await Screenshot(page, "overview.png");
        Assert.True(new FileInfo(path).Length > 10_000, "the overview screenshot is a real picture");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Operator_filters_peers_to_cleartext_in_the_last_day_and_opens_the_peer_history()
    {
        var page = await LoggedInPageAsync();
        await page.SelectOptionAsync("select[name=transport]", "cleartext");
        await page.SelectOptionAsync("select[name=within]", "day");
        await page.ClickAsync("form.filters button[type=submit]");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("transport=cleartext"));
        // Retries until the new page is parsed: exactly one peer row, the cleartext one.
        await Assertions.Expect(page.Locator("table.peers tbody tr[data-transport] td:first-child a")).ToHaveTextAsync([TestData.Cleartext.Name]);

        await page.ClickAsync($"a:text-is('{TestData.Cleartext.Name}')");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/peers/detail"));
        Assert.Contains($"Peer {TestData.Cleartext.Name} ({TestData.Cleartext.Address})", await page.Locator("h1").TextContentAsync());
        await Screenshot(page, "peer-detail.png");
        var attempt = page.Locator("table.attempts tbody tr").First;
        Assert.Equal("⚠ cleartext", await attempt.Locator(".badge.t-cleartext").TextContentAsync());
        Assert.Contains("starttls-not-offered", await attempt.TextContentAsync());
        Assert.Contains("451 4.7.1 try again later", await attempt.Locator("td.reply").TextContentAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Operator_adds_and_changes_a_destination_policy()
    {
        var page = await LoggedInPageAsync();
        await page.GotoAsync("/policies");
        await page.FillAsync("input[name=destination]", "plain.example");
        await page.SelectOptionAsync("select[name=level]", "encrypt");
        await page.ClickAsync("button:text('Save policy')");
        await Assertions.Expect(page.Locator("p.notice")).ToContainTextAsync("policy was saved");
        await Assertions.Expect(page.Locator("tr[data-destination='plain.example'] td.level")).ToHaveTextAsync("encrypt");

        await page.ClickAsync("tr[data-destination='plain.example'] a:text('edit')");
        await Assertions.Expect(page.Locator("input[name=destination]")).ToHaveValueAsync("plain.example");
        await page.SelectOptionAsync("select[name=level]", "dane-only");
        await page.ClickAsync("button:text('Save policy')");
        // Retries until the page after this second save shows the new level (the first save's notice looks the same).
        await Assertions.Expect(page.Locator("tr[data-destination='plain.example'] td.level")).ToHaveTextAsync("dane-only");
        var stored = (await web.Db.Policies.ListAsync(CancellationToken.None)).Single(p => p.Destination == "plain.example");
        Assert.Equal("dane-only", stored.Level);
        await Screenshot(page, "policies.png");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Operator_retries_a_deferred_message_after_confirming()
    {
        var queueId = web.Data.DeferredQueueId;
        var before = (await web.Db.QueueReader.GetMessageAsync(queueId, CancellationToken.None))!.Recipients.Single().NextAttempt;
        Assert.True(before > DateTimeOffset.UtcNow.AddMinutes(30));
        var page = await LoggedInPageAsync();
        await page.GotoAsync("/queue");
        await Screenshot(page, "queue.png");
        await page.ClickAsync($"a:text-is('{queueId}')");
        await page.ClickAsync("a.action:text('Retry now')");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("Make every waiting recipient");
        Assert.True((await web.Db.QueueReader.GetMessageAsync(queueId, CancellationToken.None))!.Recipients.Single().NextAttempt > DateTimeOffset.UtcNow.AddMinutes(30),
            "the confirmation page alone changes nothing");
        await page.ClickAsync("button:text('Yes, retry now')");
        await Assertions.Expect(page.Locator("p.notice")).ToContainTextAsync("due now");
        var after = (await web.Db.QueueReader.GetMessageAsync(queueId, CancellationToken.None))!.Recipients.Single().NextAttempt;
        Assert.True(after <= DateTimeOffset.UtcNow.AddSeconds(5), $"next attempt {after:O} is now");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Stored_script_and_onerror_payloads_from_peers_and_senders_never_run_and_show_literally()
    {
        var page = await LoggedInPageAsync();
        var dialogs = new List<string>();
        var console = new List<string>();
        page.Dialog += (_, dialog) => { dialogs.Add(dialog.Message); _ = dialog.DismissAsync(); };
        page.Console += (_, message) => console.Add(message.Text);

        var pages = new (string Path, string[] Literal)[]
        {
            ("/peers", []),
            ($"/peers/detail?name={TestData.Hostile.Name}&address={TestData.Hostile.Address}",
                [TestData.ScriptPayload, TestData.ImgPayload, TestData.AttributePayload]),   // reply, certificate subject and chain, TLSA, reason
            ("/queue", [TestData.ScriptPayload, TestData.ImgPayload]),                           // sender and recipient addresses
            ($"/queue/{web.Data.XssQueueId}", [TestData.ScriptPayload, TestData.ImgPayload, TestData.AttributePayload]),   // HELO, addresses, replies
            ("/inbound", [TestData.ScriptPayload, TestData.ImgPayload]),                         // inbound HELO
            ("/peers?q=" + Uri.EscapeDataString(TestData.AttributePayload), []),                // reflected search text
            ("/", []),
        };
        foreach (var (path, literal) in pages)
        {
            await page.GotoAsync(path);
            if (path.StartsWith("/queue/", StringComparison.Ordinal))
                await Screenshot(page, "stored-xss-message.png");
            Assert.True(await page.EvaluateAsync<bool>("() => window.__xss === undefined"), $"a payload ran on {path}");
            Assert.Equal(0, await page.Locator("script").CountAsync());
            Assert.Equal(0, await page.Locator("img, [onerror], [onload]").CountAsync());
            var text = await page.Locator("main").InnerTextAsync();
            foreach (var payload in literal)
                Assert.True(text.Contains(payload, StringComparison.Ordinal), $"{path} shows {payload} literally");
        }
        await page.GotoAsync("/peers?q=" + Uri.EscapeDataString(TestData.AttributePayload));
        Assert.Equal(TestData.AttributePayload, await page.InputValueAsync("input[name=q]"));   // reflected into an attribute, still just text
        Assert.Empty(dialogs);
        // Nothing even tried to run: the CSP would have reported a blocked inline script.
        Assert.DoesNotContain(console, m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
        await page.Context.CloseAsync();
    }
}
