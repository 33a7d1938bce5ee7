using System.Net;
using System.Text.RegularExpressions;
using Relay.Db;
using Relay.Policy;
using Relay.Policy.MtaSts;
using Relay.Policy.TlsRpt;

namespace Relay.Web.Tests;

/// <summary>
/// The domains page shows, per recipient domain, the policy Relay recorded with its attempts (RFC 8460 policy type, the
/// MTA-STS mode from the recorded policy lines, the cached policy's id and expiry, the explicit policy) and the session
/// counts a TLS report would count. The attempts are recorded through Relay.Db with the TLS-RPT columns as delivery
/// writes them (Relay.Policy's TlsRptPolicy named, ToWire() at the boundary). Its own fixture: it sets an explicit policy.
/// </summary>
public sealed partial class DomainsPageTests(WebFixture web) : IClassFixture<WebFixture>
{
    private static readonly StsPolicy Enforce = new(StsMode.Enforce, ["mx.sts.example"], TimeSpan.FromDays(1));
    // Whole seconds, so the page's time (to the second) is exactly the stored one.
    private static readonly DateTimeOffset Fetched = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds());

    private static TlsRptFacts Facts(TlsRptPolicy policy, string? sendingIp = "127.0.0.1") =>
        new(policy.Type.ToWire(), policy.Strings, policy.MxHosts, sendingIp, "helo.example");

    private static AttemptRecord Tls(string domain, string host, string address, int minutesAgo, string transport, string how, TlsRptPolicy policy,
        string? resultType = null, string? reason = null) =>
        new(domain, host, address, 25, DateTimeOffset.UtcNow.AddMinutes(-minutesAgo), TimeSpan.FromMilliseconds(50), "quit", "250 ok", "dane",
            transport, how, reason, "TLSv1.3", "TLS_AES_128_GCM_SHA256", new string('e', 64), ResultType: resultType, TlsRpt: Facts(policy));

    private async Task SeedAsync()
    {
        var db = web.Db;
        var ct = CancellationToken.None;
        var tlsa = new TlsRptPolicy(TlsRptPolicyType.Tlsa, ["3 1 1 " + new string('e', 64)], ["mx.dane.example"]);
        await db.Attempts.RecordAsync(Tls("dane.example", "mx.dane.example", "192.0.2.101", 10, "verified", "dane-ee", tlsa), [], ct);
        await db.Attempts.RecordAsync(Tls("dane.example", "mx.dane.example", "192.0.2.101", 5, "verified", "dane-ee", tlsa), [], ct);

        var sts = new TlsRptPolicy(TlsRptPolicyType.Sts, TlsRptPolicy.StsLines(Enforce), Enforce.Mx);
        await db.Attempts.RecordAsync(Tls("sts.example", "mx.sts.example", "192.0.2.102", 9, "verified", "mta-sts", sts), [], ct);
        // A failed handshake (certificate-expired), nothing sent: one failed session.
        await db.Attempts.RecordAsync(new AttemptRecord("sts.example", "mx.sts.example", "192.0.2.102", 25, DateTimeOffset.UtcNow.AddMinutes(-3),
            TimeSpan.FromMilliseconds(40), "starttls", null, "dane", null, "none", "certificate expired; MTA-STS enforce requires PKIX",
            ResultType: "certificate-expired", TlsRpt: Facts(sts)), [], ct);
        await db.StsPolicies.SaveAsync(new StsPolicyRow("sts.example", "pol20261201", "enforce", ["mx.sts.example"], 86400, Fetched), ct);

        // No policy found, cleartext: STARTTLS not offered is a failure with its result type.
        await db.Attempts.RecordAsync(new AttemptRecord("plain.example", "mx.plain.example", "192.0.2.103", 25, DateTimeOffset.UtcNow.AddMinutes(-2),
            TimeSpan.FromMilliseconds(40), "quit", "250 ok", "may", "cleartext", "none", "starttls-not-offered",
            ResultType: "starttls-not-supported", TlsRpt: Facts(TlsRptPolicy.NoPolicyFound)), [], ct);
        await db.Policies.SetAsync(".plain.example", "may", [], [], null, ct);
        await db.Policies.SetAsync("plain.example", "may", [], [], "legacy peer", ct);
    }

    [Fact]
    public async Task Each_domain_shows_the_recorded_policy_type_the_sts_cache_the_explicit_policy_and_session_counts()
    {
        await SeedAsync();
        using var client = await web.LoggedInClientAsync();
        var html = WebUtility.HtmlDecode(await client.GetStringAsync("/domains"));

        var dane = Row(html, "dane.example");
        Assert.Contains("data-policy-type=\"tlsa\"", dane);
        Assert.Contains("1 TLSA record(s)", dane);
        Assert.Contains("none (default)", dane);
        Assert.Equal(("2", "0"), Counts(dane));

        var sts = Row(html, "sts.example");
        Assert.Contains("data-policy-type=\"sts\"", sts);
        Assert.Matches(@">sts</span>\s*mode <span class=""literal"">enforce</span>", sts);
        Assert.Contains("id pol20261201", sts);
        Assert.Contains("expires " + Fetched.AddDays(1).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + "Z", Regex.Replace(sts, "<[^>]+>", ""));
        Assert.Contains("nothing sent", sts);                                                            // the latest attempt
        Assert.Equal(("1", "1"), Counts(sts));

        var plain = Row(html, "plain.example");
        Assert.Contains("data-policy-type=\"no-policy-found\"", plain);
        Assert.Matches(@"<span class=""literal"">may</span><div class=""muted"">from plain.example</div>", plain);  // the exact entry wins over .parent
        Assert.Equal(("0", "1"), Counts(plain));
        Assert.Contains("href=\"/peers?q=plain.example\"", plain);

        // The seeded domains of the shared data recorded no TLS-RPT columns (as before migration 0006): said so, not guessed.
        Assert.Contains("not recorded (attempt before TLS reporting)", Row(html, "secure.example"));

        var searched = WebUtility.HtmlDecode(await client.GetStringAsync("/domains?q=sts."));
        Assert.Contains("data-domain=\"sts.example\"", searched);
        Assert.DoesNotContain("data-domain=\"dane.example\"", searched);

        var peers = WebUtility.HtmlDecode(await client.GetStringAsync("/peers"));
        Assert.Contains("<a href=\"/domains?q=sts.example\">sts.example</a>", peers);
    }

    private static string Row(string html, string domain) =>
        RowPattern().Matches(html).Select(m => m.Value).SingleOrDefault(r => r.Contains($"data-domain=\"{domain}\""))
        ?? throw new Xunit.Sdk.XunitException($"no row for {domain} in:\n{html}");

    private static (string Successful, string Failed) Counts(string row) =>
        (Regex.Match(row, "class=\"count-successful\">(\\d+)<").Groups[1].Value, Regex.Match(row, "class=\"count-failed\">(\\d+)<").Groups[1].Value);

    [GeneratedRegex("<tr data-domain=.*?</tr>", RegexOptions.Singleline)]
    private static partial Regex RowPattern();
}
