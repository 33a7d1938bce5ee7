using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Relay.Web.Components;

namespace Relay.Web.Pages;

/// <summary>What the handlers share: paging from the query, links to other pages of a list, and the message pages.</summary>
public static class Layout
{
    public static IResult Message(HttpContext context, string title, string text, int statusCode) =>
        new RazorComponentResult<MessageView>(new Dictionary<string, object?> { ["Title"] = title, ["Text"] = text }) { StatusCode = statusCode };

    public static IResult NotFound(HttpContext context, string what) =>
        Message(context, "Not found", $"{what} is not in the database (it may have been deleted).", StatusCodes.Status404NotFound);

    public static Db.Page Paging(HttpContext context, int defaultLimit = 50)
    {
        var query = context.Request.Query;
        var offset = int.TryParse(query["offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : 0;
        var limit = int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : defaultLimit;
        return new Db.Page(offset, limit);
    }

    /// <summary>This page at another offset, with the other query parameters (except the one-time notice) kept.</summary>
    public static string PageLink(HttpContext context, int offset)
    {
        var parts = context.Request.Query.Where(q => q.Key is not "offset" and not "done")
            .Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value.ToString()))
            .Append("offset=" + offset.ToString(CultureInfo.InvariantCulture));
        return context.Request.Path + "?" + string.Join('&', parts);
    }
}
