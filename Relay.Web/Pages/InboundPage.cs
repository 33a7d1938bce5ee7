using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Relay.Db;
using Relay.Web.Markup;

namespace Relay.Web.Pages;

/// <summary>Recent inbound sessions by the security they reached: which senders reach us in cleartext.</summary>
public static class InboundPage
{
    public static void Map(WebApplication app) => app.MapGet("/inbound", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
    {
        var query = context.Request.Query;
        var filter = Filters.Inbound(query);
        var page = Layout.Paging(context);
        var senders = await db.InboundReader.ListInboundSendersAsync(filter, new Page(0, 50), cancellationToken);
        var sessions = await db.InboundReader.ListInboundSessionsAsync(filter, page, cancellationToken);
        return Layout.Page(context, "Inbound sessions", Html.Of($"""
            <form method="get" action="/inbound" class="filters">
              <label>Security <select name="transport">{Layout.Option("", "any", filter.Transport)}{Html.Join(Vocabulary.Transports, t => Layout.Option(t, t, filter.Transport))}</select></label>
              <label>Started <select name="within">{Layout.Option("", "any time", query["within"].FirstOrDefault())}{Html.Join(Filters.Periods, p => Layout.Option(p.Key, p.Label, query["within"].FirstOrDefault()))}</select></label>
              <button type="submit">Filter</button> <a href="/inbound">clear</a>
            </form>
            <h2>Senders</h2>
            <table class="senders"><thead><tr><th>Client address</th><th>Latest HELO</th><th>Security</th><th>Sessions</th><th>Messages</th><th>Last seen</th></tr></thead>
            <tbody>{Html.Join(senders, s => Html.Of($"""
                <tr class="{Badges.CleartextRowClass(s.Transport)}"><td class="literal">{s.ClientAddress}</td><td class="literal client-helo">{Layout.Text(s.LastHelo)}</td>
                <td>{Badges.Transport(s.Transport)}</td><td>{s.Sessions}</td><td>{s.Messages}</td><td>{Badges.Time(s.LastSeen)}</td></tr>
                """))}</tbody></table>
            <h2>Sessions</h2>
            <table class="sessions"><thead><tr><th>Started</th><th>Listener</th><th>Client</th><th>HELO</th><th>Security</th><th>TLS</th><th>Auth</th><th>Messages</th><th>End</th></tr></thead>
            <tbody>{Html.Join(sessions, s => Html.Of($"""
                <tr class="{Badges.CleartextRowClass(s.Transport)}"><td>{Badges.Time(s.StartedAt)}</td><td>{s.Listener}</td><td class="literal">{s.ClientAddress}</td>
                <td class="literal client-helo">{Layout.Text(s.ClientHelo)}</td><td>{Badges.Transport(s.Transport)}</td><td>{Layout.Text(s.TlsVersion)}<div class="muted">{s.TlsCipher}</div></td>
                <td class="literal">{Layout.Text(s.AuthUser)}</td><td>{s.Messages}</td><td class="literal">{Layout.Text(s.EndReason)}</td></tr>
                """))}</tbody></table>
            {(sessions.Count == 0 ? Html.Raw("<p class=\"muted\">No inbound session matches.</p>") : SafeHtml.Empty)}
            {Layout.Pager(context, page, sessions.Count)}
            """));
    });
}
