using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Relay.Db;

namespace Relay.Web.Pages;

/// <summary>GET /inbound: senders and sessions by the security they reached; the markup is InboundView.razor.</summary>
public static class InboundPage
{
    public static void Map(WebApplication app) => app.MapGet("/inbound", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
    {
        var filter = Filters.Inbound(context.Request.Query);
        var page = Layout.Paging(context);
        return new RazorComponentResult<InboundView>(new Dictionary<string, object?>
        {
            [nameof(InboundView.Filter)] = filter,
            [nameof(InboundView.Within)] = context.Request.Query["within"].FirstOrDefault(),
            [nameof(InboundView.Page)] = page,
            [nameof(InboundView.Senders)] = await db.InboundReader.ListInboundSendersAsync(filter, new Page(0, 50), cancellationToken),
            [nameof(InboundView.Sessions)] = await db.InboundReader.ListInboundSessionsAsync(filter, page, cancellationToken),
        });
    });
}
