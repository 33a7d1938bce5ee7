using System.Globalization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Relay.Web.Components;
using Microsoft.Extensions.DependencyInjection;
using Relay.Db;
using Relay.Web.Markup;

namespace Relay.Web.Pages;

public static class Layout
{
    /// <summary>A page whose body is still built here (SafeHtml), framed by the Razor <see cref="Components.Shell"/>.</summary>
    public static IResult Page(HttpContext context, string title, SafeHtml body, int statusCode = StatusCodes.Status200OK) =>
        new RazorComponentResult<LegacyPage>(new Dictionary<string, object?> { ["Title"] = title, ["Body"] = body.Value }) { StatusCode = statusCode };

    public static IResult Message(HttpContext context, string title, string text, int statusCode) =>
        new RazorComponentResult<MessageView>(new Dictionary<string, object?> { ["Title"] = title, ["Text"] = text }) { StatusCode = statusCode };

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
        string Link(int offset) => PageLink(context, offset);
        var previous = page.SafeOffset > 0 ? Html.Of($"<a href=\"{Link(Math.Max(0, page.SafeOffset - page.SafeLimit))}\">← newer / previous</a>") : SafeHtml.Empty;
        var next = rowsShown >= page.SafeLimit ? Html.Of($"<a href=\"{Link(page.SafeOffset + page.SafeLimit)}\">next →</a>") : SafeHtml.Empty;
        return Html.Of($"<p class=\"pager\">{previous} <span class=\"muted\">rows {page.SafeOffset + (rowsShown == 0 ? 0 : 1)}–{page.SafeOffset + rowsShown}</span> {next}</p>");
    }

    /// <summary>This page at another offset, with the other query parameters (except the one-time notice) kept.</summary>
    public static string PageLink(HttpContext context, int offset)
    {
        var parts = context.Request.Query.Where(q => q.Key is not "offset" and not "done")
            .Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value.ToString()))
            .Append("offset=" + offset.ToString(CultureInfo.InvariantCulture));
        return context.Request.Path + "?" + string.Join('&', parts);
    }

    public static SafeHtml Option(string value, string label, string? selected) =>
        Html.Of($"<option value=\"{value}\"{(value == (selected ?? "") ? Html.Raw(" selected") : SafeHtml.Empty)}>{label}</option>");

    public static SafeHtml Text(string? value) => value is null ? Html.Raw("<span class=\"muted\">—</span>") : Html.Of($"{value}");

}
