using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Relay.Web.Tests;

/// <summary>
/// Page views log nothing at warning level: antiforgery used to warn on every page with a form that it overrode our
/// Cache-Control header. The UI runs with a logger factory of the test's own (as `relay serve` hands it the process's)
/// that records every line at Debug and above, so a warning from any category would be seen.
/// </summary>
public sealed class LogNoiseTests(WebFixture web) : IClassFixture<WebFixture>
{
    [Fact]
    public async Task Viewing_pages_with_forms_logs_no_warning_and_keeps_no_store_caching()
    {
        var lines = new ConcurrentQueue<(LogLevel Level, string Category, string Message)>();
        using var loggers = RecordingLoggers.Create(lines);
        // With a key-encryption certificate: without one, start-up warns (once) that the key ring is stored unencrypted.
        var baseUrl = await web.StartAsync(WebFixture.Options() with { Loggers = loggers, KeyEncryptionCertificate = TestCertificates.KeyEncryption("log-noise") });
        using var client = await web.LoggedInClientAsync(baseUrl);
        foreach (var path in new[] { "/login", "/", "/queue", "/peers", "/policies" })
        {
            using var response = await client.GetAsync(path);
            Assert.Contains("no-store", response.Headers.CacheControl?.ToString() ?? "");
        }
        Assert.Contains(lines, l => l.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));   // the recorder does see ASP.NET Core
        var warnings = RecordingLoggers.Warnings(lines);
        Assert.True(warnings.Count == 0, string.Join("\n", warnings));
    }
}
