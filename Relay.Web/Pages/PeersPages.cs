using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Relay.Db;
using Relay.Web.Markup;

namespace Relay.Web.Pages;

/// <summary>One row per peer (MX host + address) grouped by domain, and a peer's detail with its attempt history.</summary>
public static class PeersPages
{
    public static string DetailUrl(string name, string address) =>
        $"/peers/detail?name={Uri.EscapeDataString(name)}&address={Uri.EscapeDataString(address)}";

    public static void Map(WebApplication app)
    {
        app.MapGet("/peers", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var query = context.Request.Query;
            var filter = Filters.Peers(query);
            var page = Layout.Paging(context, 100);
            var peers = await db.PeerReader.ListPeersAsync(filter, page, cancellationToken);
            var rows = new List<SafeHtml>();
            string? domain = null;
            foreach (var peer in peers)
            {
                if (filter.Sort == PeerSort.Domain && peer.NextHop != domain)
                {
                    domain = peer.NextHop;
                    rows.Add(Html.Of($"<tr class=\"group\"><th colspan=\"9\">{domain}</th></tr>"));
                }
                rows.Add(Row(peer, showDomain: filter.Sort != PeerSort.Domain));
            }
            var body = Html.Of($"""
                <form method="get" action="/peers" class="filters">
                  <label>Search <input name="q" value="{filter.Search}" placeholder="domain, host or address"></label>
                  <label>Outcome <select name="transport">{Layout.Option("", "any", filter.Transport)}{Html.Join(Vocabulary.Transports, t => Layout.Option(t, t, filter.Transport))}</select></label>
                  <label>Seen <select name="within">{Layout.Option("", "any time", query["within"].FirstOrDefault())}{Html.Join(Filters.Periods, p => Layout.Option(p.Key, p.Label, query["within"].FirstOrDefault()))}</select></label>
                  <label>Sort <select name="sort">{Layout.Option("domain", "by domain", query["sort"].FirstOrDefault() ?? "domain")}{Layout.Option("last-seen", "last seen first", query["sort"].FirstOrDefault())}{Layout.Option("weakest", "weakest first", query["sort"].FirstOrDefault())}</select></label>
                  <label><span><input type="checkbox" name="downgraded" value="1"{(filter.DowngradedOnly ? Html.Raw(" checked") : SafeHtml.Empty)}> got worse only</span></label>
                  <button type="submit">Filter</button> <a href="/peers">clear</a>
                  <a href="/export/peers.csv">CSV</a> <a href="{PeerHistorySection.DowngradesUrl}">possible downgrades</a>
                </form>
                <p class="muted">With an outcome and a period, a peer is listed when it had an attempt with that outcome in the period; with an outcome alone, when its latest attempt had it.</p>
                <table class="peers"><thead><tr><th>Peer</th><th>Address</th><th>Latest outcome</th><th>TLS</th><th>Certificate (SPKI SHA-256)</th><th>DANE</th><th>Last seen</th><th>Attempts</th><th>Share</th></tr></thead>
                <tbody>{Html.Join(rows)}</tbody></table>
                {(peers.Count == 0 ? Html.Raw("<p class=\"muted\">No peer matches.</p>") : SafeHtml.Empty)}
                {Layout.Pager(context, page, peers.Count)}
                """);
            return Layout.Page(context, "Peers", body);
        });

        app.MapGet("/peers/detail", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var name = context.Request.Query["name"].ToString();
            var address = context.Request.Query["address"].ToString();
            var peer = await db.PeerReader.GetPeerAsync(name, address, cancellationToken);
            if (peer is null)
                return Layout.NotFound(context, "That peer");
            var page = Layout.Paging(context, 50);
            var evidence = await db.PeerReader.GetPeerEvidenceAsync(name, address, cancellationToken);
            var attempts = await db.PeerReader.ListPeerAttemptsAsync(name, address, page, cancellationToken);
            var history = await db.PeerHistory.GetDetailAsync(name, address, cancellationToken);
            return Layout.Page(context, $"Peer {peer.Name} ({peer.Address})", Html.Of($"""
                {Warnings(peer)}
                <dl class="facts">
                  <dt>Domain</dt><dd>{peer.NextHop}</dd>
                  <dt>Latest outcome</dt><dd>{Badges.Transport(peer.LastTransport)} how: {peer.LastHow} {(peer.LastReason is null ? SafeHtml.Empty : Html.Of($"— <span class=\"literal\">{peer.LastReason}</span>"))}</dd>
                  <dt>Best outcome seen</dt><dd>{Badges.Transport(peer.BestTransport)}</dd>
                  <dt>TLS</dt><dd>{Layout.Text(peer.LastTlsVersion)} {Layout.Text(peer.LastTlsCipher)}</dd>
                  <dt>DANE</dt><dd>{Badges.Dane(peer.LastTlsaStatus, peer.LastTlsa.Count)}</dd>
                  <dt>First / last seen</dt><dd>{Badges.Time(peer.FirstSeen)} / {Badges.Time(peer.LastSeen)}</dd>
                  <dt>Attempts</dt><dd>cleartext {peer.AttemptsCleartext}, encrypted {peer.AttemptsEncrypted}, trusted {peer.AttemptsTrusted}, verified {peer.AttemptsVerified} {Charts.Share(peer.AttemptsCleartext, peer.AttemptsEncrypted, peer.AttemptsTrusted, peer.AttemptsVerified)}</dd>
                </dl>
                <h2>Certificate</h2>
                <dl class="facts">
                  <dt>SPKI SHA-256</dt><dd class="literal">{Layout.Text(peer.LastSpki)}</dd>
                  <dt>Previous SPKI</dt><dd class="literal">{Layout.Text(peer.PreviousSpki)} {(peer.SpkiChangedAt is null ? SafeHtml.Empty : Html.Of($"(changed {Badges.Time(peer.SpkiChangedAt)})"))}</dd>
                  <dt>Subject</dt><dd class="literal cert-subject">{Layout.Text(evidence.CertSubject)}</dd>
                  <dt>Seen</dt><dd>{Badges.Time(evidence.CertSeenAt)}</dd>
                </dl>
                <h3>Chain presented (one subject per line)</h3>
                <pre class="cert-chain">{evidence.CertChain ?? "—"}</pre>
                {PeerHistorySection.Render(context, peer, history)}
                <h2>TLSA records seen</h2>
                {TlsaTable(evidence.Tlsa)}
                <h2>Attempt history</h2>
                {AttemptTable.Render(attempts, showPeer: false)}
                {Layout.Pager(context, page, attempts.Count)}
                """));
        });
    }

    private static SafeHtml Row(PeerView p, bool showDomain)
    {
        var rowClass = (Badges.CleartextRowClass(p.LastTransport) + " ") + (p.Downgraded ? "row-downgraded" : "");
        var downgrade = p.Downgraded ? Html.Of($" <span class=\"badge t-cleartext downgrade\" title=\"best seen: {p.BestTransport}\">⚠ got worse (was {p.BestTransport})</span>") : SafeHtml.Empty;
        var spkiChanged = p.PreviousSpki is not null ? Html.Of($" <span class=\"badge t-encrypted\" title=\"previous: {p.PreviousSpki}\">changed</span>") : SafeHtml.Empty;
        var total = p.AttemptsCleartext + p.AttemptsEncrypted + p.AttemptsTrusted + p.AttemptsVerified;
        return Html.Of($"""
            <tr class="{rowClass.Trim()}" data-transport="{p.LastTransport}">
              <td><a href="{DetailUrl(p.Name, p.Address)}">{p.Name}</a>{(showDomain ? Html.Of($"<div class=\"muted\">{p.NextHop}</div>") : SafeHtml.Empty)}</td>
              <td>{p.Address}</td>
              <td>{Badges.Transport(p.LastTransport)}{downgrade}<div class="muted">how: {p.LastHow}{(p.LastReason is null ? "" : " — " + p.LastReason)}</div></td>
              <td>{Layout.Text(p.LastTlsVersion)}<div class="muted">{p.LastTlsCipher}</div></td>
              <td class="literal">{Short(p.LastSpki)}{spkiChanged}</td>
              <td>{Badges.Dane(p.LastTlsaStatus, p.LastTlsa.Count)}</td>
              <td>{Badges.Time(p.LastSeen)}</td>
              <td>{total}</td>
              <td>{Charts.Share(p.AttemptsCleartext, p.AttemptsEncrypted, p.AttemptsTrusted, p.AttemptsVerified)}</td>
            </tr>
            """);
    }

    private static SafeHtml Warnings(PeerView peer)
    {
        var warnings = new List<SafeHtml>();
        if (peer.Downgraded)
            warnings.Add(Html.Of($"<div class=\"warning downgrade\" role=\"alert\">Security got worse: this peer once reached {Badges.Transport(peer.BestTransport)} and its latest attempt reached only {Badges.Transport(peer.LastTransport)}.</div>"));
        if (peer.PreviousSpki is not null)
            warnings.Add(Html.Of($"<div class=\"warning\">The certificate key changed {Badges.Time(peer.SpkiChangedAt)}: from <span class=\"literal\">{peer.PreviousSpki}</span> to <span class=\"literal\">{peer.LastSpki}</span>.</div>"));
        return Html.Join(warnings);
    }

    private static SafeHtml TlsaTable(IReadOnlyList<TlsaSighting> sightings) => sightings.Count == 0
        ? Html.Raw("<p class=\"muted\">No TLSA lookup recorded for this peer.</p>")
        : Html.Of($"""
            <table class="tlsa"><thead><tr><th>Status</th><th>Records</th><th>First seen</th><th>Last seen</th><th>Attempts</th></tr></thead><tbody>
            {Html.Join(sightings, s => Html.Of($"<tr><td>{Badges.Dane(s.Status, s.Records.Count)}</td><td class=\"literal\">{string.Join("\n", s.Records)}</td><td>{Badges.Time(s.FirstSeen)}</td><td>{Badges.Time(s.LastSeen)}</td><td>{s.Attempts}</td></tr>"))}
            </tbody></table>
            """);

    private static string Short(string? spki) => spki is null ? "—" : spki.Length > 16 ? spki[..16] + "…" : spki;
}
