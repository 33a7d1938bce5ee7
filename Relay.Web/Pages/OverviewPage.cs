using Relay.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Relay.Db;
using Relay.Web.Markup;

namespace Relay.Web.Pages;

/// <summary>At a glance: which protection the hops got lately, the queue, and the peers whose security got worse.</summary>
public static class OverviewPage
{
    public static void Map(WebApplication app) => app.MapGet("/", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
    {
        var overview = await db.OverviewReader.GetOverviewAsync(cancellationToken);
        var queue = overview.Queue;
        var legend = Html.Join(Vocabulary.Transports, t => Html.Of($"<span>{Badges.Transport(t)}</span>"));
        var table = Html.Join(overview.Periods, p => Html.Of($"""
            <tr><th>last {p.Period}</th>{Html.Join(Vocabulary.Transports, t => Html.Of($"<td>{p.ByTransport.GetValueOrDefault(t)}</td>"))}
            {Html.Join(Vocabulary.Networks, n => Html.Of($"<td>{p.ByNetwork.GetValueOrDefault(n)}</td>"))}<td>{p.Total}</td></tr>
            """));
        var inbound = Html.Join(Vocabulary.Transports, t => Html.Of($"<span>{Badges.Transport(t)} {overview.InboundLastDay.GetValueOrDefault(t)}</span> "));
        var downgraded = overview.Downgraded.Count == 0
            ? Html.Raw("<p class=\"muted\">No peer does worse now than it once did.</p>")
            : Html.Of($"""
                <table class="downgraded"><thead><tr><th>Peer</th><th>Address</th><th>Domain</th><th>Best seen</th><th>Latest</th><th>Reason</th><th>Last seen</th></tr></thead><tbody>
                {Html.Join(overview.Downgraded, p => Html.Of($"""
                    <tr class="row-downgraded"><td><a href="{PeersPages.DetailUrl(p.Name, p.Address)}">{p.Name}</a></td><td>{p.Address}</td><td>{p.NextHop}</td>
                    <td>{Badges.Transport(p.BestTransport)}</td><td>{Badges.Transport(p.LastTransport)}</td><td class="literal">{Layout.Text(p.LastReason)}</td><td>{Badges.Time(p.LastSeen)}</td></tr>
                    """))}
                </tbody></table>
                """);
        return Layout.Page(context, "Overview", Html.Of($"""
            <div class="cards">
              <div class="card"><div class="muted">Messages in queue</div><div class="value" id="queue-size">{queue.Messages}</div></div>
              <div class="card"><div class="muted">Recipients queued</div><div class="value">{queue.Queued}</div></div>
              <div class="card"><div class="muted">Recipients deferred</div><div class="value" id="deferred">{queue.Deferred}</div></div>
              <div class="card"><div class="muted">Recipients held</div><div class="value">{queue.Held}</div></div>
              <div class="card"><div class="muted">Oldest message</div><div class="value" id="oldest">{(queue.OldestAge is { } age ? Badges.Age(age) : "—")}</div></div>
            </div>
            <h2>Outbound attempts by transport outcome</h2>
            <p class="legend">{legend} <span class="muted">weakest first; <em>trusted</em> = authenticated but not downgrade-resistant, <em>verified</em> = downgrade-resistant.</span></p>
            {Charts.TransportBars(overview.Periods)}
            <h2>Network layer (IPsec)</h2>
            <p class="legend"><span class="badge n-ipsec">ipsec (anonymous or authenticated)</span> <span class="badge n-none">no ipsec</span></p>
            {Charts.NetworkBars(overview.Periods)}
            <table class="counts"><thead><tr><th>Period</th>{Html.Join(Vocabulary.Transports, t => Html.Of($"<th>{t}</th>"))}{Html.Join(Vocabulary.Networks, n => Html.Of($"<th>net: {n}</th>"))}<th>total</th></tr></thead>
            <tbody>{table}</tbody></table>
            <h2>Peers whose security got worse</h2>
            {downgraded}
            <h2>Inbound sessions, last day</h2>
            <p>{inbound} <a href="/inbound?transport={TransportSecurity.Cleartext.ToWire()}&amp;within=day">who reaches us in cleartext →</a></p>
            """));
    });
}
