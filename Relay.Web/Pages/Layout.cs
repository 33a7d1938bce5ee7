using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Relay.Db;
using Relay.Web.Markup;

namespace Relay.Web.Pages;

/// <summary>A page of server-rendered markup. No script is ever emitted (the CSP forbids it anyway).</summary>
public sealed class HtmlResult(SafeHtml html, int statusCode = StatusCodes.Status200OK) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = "text/html; charset=utf-8";
        await httpContext.Response.WriteAsync(html.Value, Encoding.UTF8);
    }
}

public static class Layout
{
    private static readonly (string Href, string Label)[] navigation =
        [("/", "Overview"), ("/peers", "Peers"), ("/queue", "Queue"), ("/policies", "Policies"), ("/inbound", "Inbound")];

    /// <summary>Outcome notices after a POST-redirect-GET; the query carries only a key, never text.</summary>
    private static readonly Dictionary<string, string> notices = new(StringComparer.Ordinal)
    {
        ["retried"] = "Every waiting recipient of the message is due now.",
        ["held"] = "The message is held: delivery stops until it is released.",
        ["released"] = "The message is released and due now.",
        ["deleted"] = "The message was deleted.",
        ["bounce-requested"] = "Bounce requested: the next delivery worker sends the DSN and marks the recipients bounced.",
        ["nothing"] = "Nothing changed: no recipient was in a state that action applies to.",
        ["policy-saved"] = "The destination policy was saved.",
        ["policy-deleted"] = "The destination policy was deleted.",
        ["ipsec-saved"] = "The IPsec class was saved.",
        ["ipsec-deleted"] = "The IPsec class was deleted.",
        ["peer-forgotten"] = "The peer's history was forgotten: no downgrade flag or protection until it is seen again.",
    };

    public static IResult Page(HttpContext context, string title, SafeHtml body, int statusCode = StatusCodes.Status200OK)
    {
        var user = context.User.Identity?.IsAuthenticated == true ? WebHost.UserName(context.User) : null;
        var path = context.Request.Path.Value ?? "/";
        var nav = user is null ? SafeHtml.Empty : Html.Of($"""
            <nav>{Html.Join(navigation, n => Html.Of($"<a href=\"{n.Href}\"{(IsCurrent(path, n.Href) ? Html.Raw(" class=\"current\" aria-current=\"page\"") : SafeHtml.Empty)}>{n.Label}</a>"))}
            <form method="post" action="/logout" class="logout">{Token(context)}<span class="muted">{user}</span> <button type="submit">Log out</button></form></nav>
            """);
        var notice = context.Request.Query["done"].ToString() is { Length: > 0 } key && notices.TryGetValue(key, out var text)
            ? Html.Of($"<p class=\"notice\" role=\"status\">{text}</p>") : SafeHtml.Empty;
        return new HtmlResult(Html.Of($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{title} · Relay</title><link rel="stylesheet" href="/static/app.css"></head>
            <body><header><span class="brand">Relay</span>{nav}</header>
            <main><h1>{title}</h1>{notice}{body}</main></body></html>
            """), statusCode);
    }

    public static IResult Message(HttpContext context, string title, string text, int statusCode) =>
        Page(context, title, Html.Of($"<p class=\"error\">{text}</p>"), statusCode);

    public static IResult NotFound(HttpContext context, string what) =>
        Message(context, "Not found", $"{what} is not in the database (it may have been deleted).", StatusCodes.Status404NotFound);

    /// <summary>The hidden anti-forgery field every form carries.</summary>
    public static SafeHtml Token(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return Html.Of($"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">");
    }

    public static Db.Page Paging(HttpContext context, int defaultLimit = 50)
    {
        var query = context.Request.Query;
        var offset = int.TryParse(query["offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : 0;
        var limit = int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : defaultLimit;
        return new Db.Page(offset, limit);
    }

    /// <summary>Previous/next links that keep the other query parameters.</summary>
    public static SafeHtml Pager(HttpContext context, Db.Page page, int rowsShown)
    {
        string Link(int offset)
        {
            var parts = context.Request.Query.Where(q => q.Key is not "offset" and not "done")
                .Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value.ToString()))
                .Append("offset=" + offset.ToString(CultureInfo.InvariantCulture));
            return context.Request.Path + "?" + string.Join('&', parts);
        }
        var previous = page.SafeOffset > 0 ? Html.Of($"<a href=\"{Link(Math.Max(0, page.SafeOffset - page.SafeLimit))}\">← newer / previous</a>") : SafeHtml.Empty;
        var next = rowsShown >= page.SafeLimit ? Html.Of($"<a href=\"{Link(page.SafeOffset + page.SafeLimit)}\">next →</a>") : SafeHtml.Empty;
        return Html.Of($"<p class=\"pager\">{previous} <span class=\"muted\">rows {page.SafeOffset + (rowsShown == 0 ? 0 : 1)}–{page.SafeOffset + rowsShown}</span> {next}</p>");
    }

    public static SafeHtml Option(string value, string label, string? selected) =>
        Html.Of($"<option value=\"{value}\"{(value == (selected ?? "") ? Html.Raw(" selected") : SafeHtml.Empty)}>{label}</option>");

    public static SafeHtml Text(string? value) => value is null ? Html.Raw("<span class=\"muted\">—</span>") : Html.Of($"{value}");

    private static bool IsCurrent(string path, string href) => href == "/" ? path == "/" : path.StartsWith(href, StringComparison.Ordinal);
}
