using Microsoft.Playwright;

namespace Relay.Web.Tests;

/// <summary>
/// Debian's Chromium driven by Playwright: no browser download, headless, and the flags that keep it
/// off the network. Playwright gives each launch a fresh temporary profile (user-data-dir) of its own.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium");
        playwright = await Playwright.CreateAsync();
        Assertions.SetDefaultExpectTimeout(20_000);   // generous: CI shares two cores with builds
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = 30_000,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.CloseAsync();
        playwright?.Dispose();
    }
}
