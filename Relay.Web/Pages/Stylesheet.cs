namespace Relay.Web.Pages;

/// <summary>The one stylesheet, served from /static/app.css so the CSP can forbid inline styles.</summary>
public static class Stylesheet
{
    public const string Text = """
        :root { --verified: #1a7f37; --trusted: #1f6feb; --encrypted: #b7791f; --cleartext: #cf222e; --muted: #6e7781; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; }
        header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.2rem; background: #24292f; color: #fff; }
        header a { color: #d0d7de; text-decoration: none; margin-right: 1rem; }
        header a.current { color: #fff; font-weight: 600; border-bottom: 2px solid #fff; }
        header nav { display: flex; align-items: center; flex: 1; }
        .brand { font-weight: 700; font-size: 1.1rem; }
        .logout { margin-left: auto; }
        main { padding: 1rem 1.2rem; max-width: 1400px; }
        h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
        h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
        table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: 1rem; }
        th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #d8dee4; vertical-align: top; }
        th { background: #eaeef2; font-weight: 600; }
        tr.group th { background: #dde3ea; font-size: .95rem; }
        tr.row-cleartext { background: #fff1f0; }
        tr.row-downgraded td:first-child { border-left: 4px solid var(--cleartext); }
        td.literal, .literal { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
        .badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: .85rem; font-weight: 600; color: #fff; background: var(--muted); white-space: nowrap; }
        .t-verified { background: var(--verified); }
        .t-trusted { background: var(--trusted); }
        .t-encrypted { background: var(--encrypted); }
        .t-cleartext { background: var(--cleartext); }
        .t-unknown { background: #57606a; }
        .t-nothing { background: #fff; color: #24292f; border: 1px dashed #57606a; }
        .n-auth { background: var(--verified); } .n-anon { background: var(--encrypted); } .n-blocked { background: #000; } .n-none { background: #afb8c1; color: #1f2328; } .n-ipsec { background: #8250df; }
        .d-secure { background: var(--verified); } .d-insecure { background: #afb8c1; color: #1f2328; } .d-failing { background: var(--cleartext); }
        .s-queued { background: #57606a; } .s-deferred { background: var(--encrypted); } .s-delivered { background: var(--verified); }
        .s-bounced { background: var(--cleartext); } .s-held { background: #8250df; } .s-unknown { background: #000; }
        .muted { color: var(--muted); }
        .warning { border: 2px solid var(--cleartext); background: #fff1f0; padding: .5rem .8rem; margin: .6rem 0; }
        .notice { border: 1px solid var(--verified); background: #dafbe1; padding: .5rem .8rem; }
        .error { border: 1px solid var(--cleartext); background: #fff1f0; padding: .4rem .8rem; margin: .3rem 0; }
        .cards { display: flex; gap: 1rem; flex-wrap: wrap; margin-bottom: 1rem; }
        .card { background: #fff; border: 1px solid #d8dee4; padding: .6rem 1rem; min-width: 9rem; }
        .card .value { font-size: 1.6rem; font-weight: 700; }
        form.filters, form.edit { background: #fff; border: 1px solid #d8dee4; padding: .6rem .8rem; margin-bottom: 1rem; display: flex; gap: .8rem; flex-wrap: wrap; align-items: end; }
        form.filters label, form.edit label { display: flex; flex-direction: column; font-size: .85rem; }
        form.inline { display: inline; }
        button { cursor: pointer; padding: .25rem .8rem; }
        button.danger { background: var(--cleartext); color: #fff; border: 0; }
        svg text { font-size: 12px; fill: #1f2328; }
        svg .seg-label { fill: #fff; font-weight: 600; }
        svg rect.verified { fill: var(--verified); } svg rect.trusted { fill: var(--trusted); }
        svg rect.encrypted { fill: var(--encrypted); } svg rect.cleartext { fill: var(--cleartext); }
        svg rect.empty { fill: #eaeef2; } svg rect.ipsec { fill: #8250df; } svg rect.noipsec { fill: #afb8c1; }
        svg.share { vertical-align: middle; }
        .legend span { margin-right: .6rem; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; background: #fff; padding: .6rem 1rem; border: 1px solid #d8dee4; }
        dl.facts dt { font-weight: 600; }
        dl.facts dd { margin: 0; }
        pre { background: #fff; border: 1px solid #d8dee4; padding: .5rem; white-space: pre-wrap; word-break: break-all; }
        .login { max-width: 22rem; background: #fff; border: 1px solid #d8dee4; padding: 1rem; }
        .login label { display: block; margin-bottom: .6rem; } .login input { width: 100%; }
        """;
}
