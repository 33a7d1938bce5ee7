using System.Net;
using System.Text.RegularExpressions;
using Relay.Db.Web;

namespace Relay.Web.Tests;

/// <summary>
/// The overview shows the smtp role's latest own-TLSA check (own_tlsa_checks) as a warning while our published record
/// does not match our certificate, and says nothing once it matches again. The rows are written here exactly as
/// Relay.Server's OwnTlsaMonitor writes them (tests/Relay.EndToEnd.Tests/Operations/OwnTlsaTests runs the monitor).
/// </summary>
public sealed partial class OwnTlsaWarningTests(WebFixture web) : IClassFixture<WebFixture>
{
    private const string Owner = "_25._tcp.mx.example.org";

    [Fact]
    public async Task A_mismatch_is_a_warning_on_the_overview_and_a_match_clears_it()
    {
        using var client = await web.LoggedInClientAsync();
        Assert.DoesNotContain("own-tlsa-warning", await client.GetStringAsync("/"));   // never checked: nothing to say

        var checkedAt = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        await web.Db.OwnTlsa.SaveAsync(new OwnTlsaRow(Owner, "mismatch", true,
            "our certificate matches none of the published records (published: 3 1 1 AB<CD>)", checkedAt), CancellationToken.None);
        var html = await client.GetStringAsync("/");
        var warning = Warning().Match(html);
        Assert.True(warning.Success, html);
        Assert.Contains("Our own DANE record: mismatch.", warning.Value);
        Assert.Contains(Owner, warning.Value);
        Assert.Contains("published: 3 1 1 AB&lt;CD&gt;", warning.Value);   // the detail is text, encoded, never markup
        Assert.Contains("2026-12-01 10:00:00Z", warning.Value);

        await web.Db.OwnTlsa.SaveAsync(new OwnTlsaRow(Owner, "matches", false, "our certificate matches 3 1 1 EF", checkedAt.AddHours(1)),
            CancellationToken.None);
        Assert.DoesNotContain("own-tlsa-warning", await client.GetStringAsync("/"));
    }

    [GeneratedRegex("<div class=\"warning own-tlsa\" role=\"alert\" id=\"own-tlsa-warning\">.*?</div>", RegexOptions.Singleline)]
    private static partial Regex Warning();
}
