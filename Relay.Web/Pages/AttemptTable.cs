using Relay.Db;
using Relay.Web.Markup;

namespace Relay.Web.Pages;

/// <summary>Attempts as a table: every security fact stored, every peer word shown literally.</summary>
public static class AttemptTable
{
    public static SafeHtml Render(IReadOnlyList<AttemptView> attempts, bool showPeer) => attempts.Count == 0
        ? Html.Raw("<p class=\"muted\">No attempts recorded.</p>")
        : Html.Of($"""
            <table class="attempts"><thead><tr><th>Started</th>{(showPeer ? Html.Raw("<th>Peer</th>") : SafeHtml.Empty)}<th>Stage</th><th>Outcome</th><th>Policy</th><th>TLS</th><th>DNSSEC (MX / address)</th><th>Network</th><th>Reply</th><th>Recipients</th></tr></thead>
            <tbody>{Html.Join(attempts, Row(showPeer))}</tbody></table>
            """);

    /// <summary>What the attempt achieved; one that sent nothing says so with where it stopped and why (never "how").</summary>
    private static SafeHtml Outcome(AttemptView a) => a.Transport is null
        ? Html.Of($"{Badges.Transport(null)}<div class=\"literal not-sent\">{a.Stage}: {a.Reason}</div>")
        : Html.Of($"{Badges.Transport(a.Transport)}<div class=\"muted\">how: {a.How}</div>{(a.Reason is null ? SafeHtml.Empty : Html.Of($"<div class=\"literal\">{a.Reason}</div>"))}");

    /// <summary>The classifier's verdict against peer history: a possible downgrade (with why) and a changed certificate key.</summary>
    private static SafeHtml History(AttemptView a) => Html.Join([
        a.Downgrade ? Html.Of($"<div class=\"downgrade\"><span class=\"badge t-cleartext\">⚠ possible downgrade</span><div class=\"literal\">{a.DowngradeReason}</div></div>") : SafeHtml.Empty,
        a.KeyChanged ? Html.Raw("<div><span class=\"badge t-encrypted key-changed\">certificate key changed</span></div>") : SafeHtml.Empty]);

    private static Func<AttemptView, SafeHtml> Row(bool showPeer) => a => Html.Of($"""
        <tr class="{Badges.CleartextRowClass(a.Transport)}" data-transport="{a.Transport ?? "nothing-sent"}">
          <td>{Badges.Time(a.StartedAt)}<div class="muted">{a.DurationMs} ms</div></td>
          {(showPeer ? Html.Of($"<td>{(a.Peer is null ? Layout.Text(null) : Html.Of($"<a href=\"{PeersPages.DetailUrl(a.Peer, a.Address ?? "")}\">{a.Peer}</a>"))}<div class=\"muted\">{a.Address}</div></td>") : SafeHtml.Empty)}
          <td>{a.Stage}</td>
          <td>{Outcome(a)}{(a.ResultType is null ? SafeHtml.Empty : Html.Of($"<div class=\"muted\">TLS-RPT: {a.ResultType}</div>"))}{History(a)}</td>
          <td>{a.PolicyLevel}</td>
          <td>{Layout.Text(a.TlsVersion)}<div class="muted">{a.TlsCipher}</div>{(a.CertSubject is null ? SafeHtml.Empty : Html.Of($"<div class=\"literal cert-subject\">{a.CertSubject}</div>"))}</td>
          <td>{Badges.Dnssec(a.MxDnssec)} / {Badges.Dnssec(a.AddressDnssec)}<div>TLSA: {Badges.Dane(a.TlsaStatus, a.Tlsa.Count)}</div></td>
          <td>{Badges.Network(a.Network)}{(a.NetworkReason is null ? SafeHtml.Empty : Html.Of($"<div class=\"muted\">{a.NetworkReason}</div>"))}</td>
          <td class="literal reply">{Layout.Text(a.Reply)}</td>
          <td>{Html.Join(a.Recipients, r => Html.Of($"<div><span class=\"literal\">{r.Address}</span> {Badges.State(r.Result)}{(r.Reply is null ? SafeHtml.Empty : Html.Of($"<div class=\"literal reply\">{r.Reply}</div>"))}</div>"))}</td>
        </tr>
        """);
}
