using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Relay.Db;
using Relay.Policy.History;
using Relay.Web.Markup;

namespace Relay.Web.Pages;

/// <summary>
/// Downgrade detection from peer history (RFC 7435 §3) in the UI: the peer page's history section with its forget button,
/// the list of attempts flagged as possible downgrades, and the forget action (a POST with the anti-forgery token, as
/// every form). Forgetting deletes the peer's history (not its attempts): its flag and downgrade protection end.
/// </summary>
public static class PeerHistorySection
{
    public const string DowngradesUrl = "/peers/downgrades";

    public static void Map(WebApplication app)
    {
        app.MapGet(DowngradesUrl, async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var page = Layout.Paging(context, 50);
            var attempts = await db.AttemptReader.ListDowngradesAsync(page, cancellationToken);
            return Layout.Page(context, "Possible downgrades", Html.Of($"""
                <p class="muted">Attempts where a peer that offered STARTTLS recently did not, or whose TLS completed recently and now failed
                (peer history, trust on first use). With downgrade protection on, such a peer gets no cleartext until the history ages out
                (Relay:Delivery:DowngradeWindow) or it is forgotten on its page or with <span class="literal">relay peers forget PEER</span>.</p>
                {AttemptTable.Render(attempts, showPeer: true)}
                {Layout.Pager(context, page, attempts.Count)}
                """));
        });

        app.MapPost("/peers/forget", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var form = context.Request.Form;
            var (name, error) = PeerName.Parse(form["name"].ToString());
            var (address, addressError) = PeerName.Parse(form["address"].ToString());
            if (name is null || address is null)
                return Layout.Message(context, "Not a peer", error ?? addressError ?? "", StatusCodes.Status400BadRequest);
            return await db.Peers.ForgetPeerAsync(name, address, cancellationToken) > 0
                ? Results.Redirect("/peers?done=peer-forgotten")
                : Layout.NotFound(context, "That peer");
        });
    }

    /// <summary>The peer page's section: STARTTLS and TLS sightings, the last flag, every key seen, and the forget button.</summary>
    public static SafeHtml Render(HttpContext context, PeerView peer, PeerHistoryDetail? history)
    {
        if (history is null) return SafeHtml.Empty;
        var flag = history.DowngradeAt is null ? SafeHtml.Empty : Html.Of($"""
            <div class="warning downgrade" role="alert">Possible downgrade {Badges.Time(history.DowngradeAt)}: <span class="literal">{history.DowngradeReason}</span>
            (see <a href="{DowngradesUrl}">all possible downgrades</a>)</div>
            """);
        var offered = history.StartTlsOffered switch { true => "offered", false => "not offered", null => "no EHLO seen yet" };
        var keys = history.Keys.Count == 0
            ? Html.Raw("<p class=\"muted\">No completed TLS handshake recorded.</p>")
            : Html.Of($"""
                <table class="keys"><thead><tr><th>SPKI SHA-256</th><th>First seen</th><th>Last seen</th><th>Handshakes</th></tr></thead><tbody>
                {Html.Join(history.Keys, k => Html.Of($"<tr><td class=\"literal\">{k.Spki}{(k.Spki == peer.LastSpki ? Html.Raw(" <span class=\"badge\">current</span>") : SafeHtml.Empty)}</td><td>{Badges.Time(k.FirstSeen)}</td><td>{Badges.Time(k.LastSeen)}</td><td>{k.Attempts}</td></tr>"))}
                </tbody></table>
                {(history.Keys.Count > 1 ? Html.Raw("<p class=\"muted\">More than one key: the certificate key changed. Recorded, never blocking (only a <em>fingerprint</em> policy pins keys).</p>") : SafeHtml.Empty)}
                """);
        return Html.Of($"""
            <h2>Downgrade detection (peer history)</h2>
            {flag}
            <dl class="facts history">
              <dt>STARTTLS in the last EHLO</dt><dd>{offered} {(history.StartTlsSeenAt is null ? SafeHtml.Empty : Html.Of($"({Badges.Time(history.StartTlsSeenAt)})"))}</dd>
              <dt>STARTTLS last offered</dt><dd>{Badges.Time(history.StartTlsOfferedAt)}</dd>
              <dt>TLS last completed</dt><dd>{Badges.Time(history.TlsEstablishedAt)}</dd>
            </dl>
            <h3>Certificate keys seen</h3>
            {keys}
            <form method="post" action="/peers/forget" class="forget">{Layout.Token(context)}
              <input type="hidden" name="name" value="{peer.Name}"><input type="hidden" name="address" value="{peer.Address}">
              <button type="submit" class="danger">Forget this peer's history</button>
              <span class="muted">clears the downgrade flag and protection; the next delivery goes as the plan says (cleartext with its reason if the peer offers no TLS)</span>
            </form>
            """);
    }
}
