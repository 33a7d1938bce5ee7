using System.Net;
using Relay.Db;

namespace Relay.Web.Tests;

/// <summary>
/// Downgrade detection in the UI: the peer page's history section (flag, sightings, keys), the list of possible
/// downgrades, and the forget action as a POST with the anti-forgery token. Its own fixture: forgetting deletes a peer.
/// </summary>
public sealed class PeerHistoryPageTests(WebFixture web) : IClassFixture<WebFixture>
{
    private static readonly (string Name, string Address) Stripped = ("mx.stripped.example", "192.0.2.77");
    private static readonly string OldKey = new('c', 64), NewKey = new('d', 64);

    /// <summary>Records, as delivery does, a TLS delivery with one key, one with another, then a STARTTLS that is gone.</summary>
    private async Task SeedAsync()
    {
        var now = DateTimeOffset.UtcNow;
        AttemptRecord Tls(string key, bool changed, int minutesAgo) =>
            new AttemptRecord("stripped.example", Stripped.Name, Stripped.Address, 25, now.AddMinutes(-minutesAgo), TimeSpan.FromMilliseconds(80),
                "quit", "250 ok", "dane", "encrypted", "none", "certificate-not-checked", "TLSv1.3", "TLS_AES_128_GCM_SHA256", key)
            { Observation = new PeerObservation(true, true), KeyChanged = changed };
        await web.Db.Attempts.RecordAsync(Tls(OldKey, false, 30), [], CancellationToken.None);
        await web.Db.Attempts.RecordAsync(Tls(NewKey, true, 20), [], CancellationToken.None);
        await web.Db.Attempts.RecordAsync(new AttemptRecord("stripped.example", Stripped.Name, Stripped.Address, 25, now.AddMinutes(-1),
                TimeSpan.FromMilliseconds(40), "ehlo", null, "dane", null, "none", "STARTTLS not offered; downgrade protection requires TLS")
            { Observation = new PeerObservation(false, false), Downgrade = "possible downgrade: mx.stripped.example offered STARTTLS and now does not" },
            [], CancellationToken.None);
    }

    [Fact]
    public async Task Peer_page_shows_the_flag_sightings_and_keys_the_list_shows_the_attempt_and_forget_needs_the_token()
    {
        await SeedAsync();
        using var client = await web.LoggedInClientAsync();
        var detailUrl = $"/peers/detail?name={Stripped.Name}&address={Stripped.Address}";
        var html = WebUtility.HtmlDecode(await client.GetStringAsync(detailUrl));
        Assert.Contains("Downgrade detection (peer history)", html);
        Assert.Contains("possible downgrade: mx.stripped.example offered STARTTLS and now does not", html);
        Assert.Contains("not offered", html);
        Assert.Contains(OldKey, html);
        Assert.Contains(NewKey + " <span class=\"badge\">current</span>", html);
        Assert.Contains("the certificate key changed", html);
        Assert.Contains("certificate key changed</span>", html);     // the attempt that brought the new key
        Assert.Contains("action=\"/peers/forget\"", html);

        var list = WebUtility.HtmlDecode(await client.GetStringAsync("/peers/downgrades"));
        Assert.Contains("⚠ possible downgrade", list);
        Assert.Contains(Stripped.Name, list);
        Assert.DoesNotContain(TestData.Verified.Name, list);

        var forged = await WebFixture.PostFormAsync(client, "/peers/forget", ("name", Stripped.Name), ("address", Stripped.Address));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.NotNull(await web.Db.PeerReader.GetPeerAsync(Stripped.Name, Stripped.Address, CancellationToken.None));

        var token = WebFixture.FormToken(html);
        var bad = await WebFixture.PostFormAsync(client, "/peers/forget", (WebHost.AntiforgeryFieldName, token), ("name", "bad..name"), ("address", Stripped.Address));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("bad..name", await bad.Content.ReadAsStringAsync());

        var forget = await WebFixture.PostFormAsync(client, "/peers/forget", (WebHost.AntiforgeryFieldName, token), ("name", Stripped.Name), ("address", Stripped.Address));
        Assert.Equal(HttpStatusCode.Redirect, forget.StatusCode);
        Assert.Equal("/peers?done=peer-forgotten", forget.Headers.Location?.OriginalString);
        Assert.Null(await web.Db.PeerReader.GetPeerAsync(Stripped.Name, Stripped.Address, CancellationToken.None));
        Assert.Null(await web.Db.PeerHistory.GetDetailAsync(Stripped.Name, Stripped.Address, CancellationToken.None));
        Assert.Contains(Stripped.Name, await client.GetStringAsync("/peers/downgrades"));   // the attempts stay: they are what happened
    }
}
