using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Relay.Db;

namespace Relay.Web.Pages;

/// <summary>
/// GET /peers (one row per peer, grouped by domain) and /peers/detail (one peer's evidence and attempt history).
/// The markup is PeersView.razor and PeerDetailView.razor.
/// </summary>
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
            return new RazorComponentResult<PeersView>(new Dictionary<string, object?>
            {
                [nameof(PeersView.Filter)] = filter,
                [nameof(PeersView.Within)] = query["within"].FirstOrDefault(),
                [nameof(PeersView.Sort)] = query["sort"].FirstOrDefault(),
                [nameof(PeersView.Page)] = page,
                [nameof(PeersView.Peers)] = await db.PeerReader.ListPeersAsync(filter, page, cancellationToken),
            });
        });

        app.MapGet("/peers/detail", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var name = context.Request.Query["name"].ToString();
            var address = context.Request.Query["address"].ToString();
            var peer = await db.PeerReader.GetPeerAsync(name, address, cancellationToken);
            if (peer is null)
                return Layout.NotFound(context, "That peer");
            var page = Layout.Paging(context, 50);
            return new RazorComponentResult<PeerDetailView>(new Dictionary<string, object?>
            {
                [nameof(PeerDetailView.Peer)] = peer,
                [nameof(PeerDetailView.Evidence)] = await db.PeerReader.GetPeerEvidenceAsync(name, address, cancellationToken),
                [nameof(PeerDetailView.Attempts)] = await db.PeerReader.ListPeerAttemptsAsync(name, address, page, cancellationToken),
                [nameof(PeerDetailView.Page)] = page,
                [nameof(PeerDetailView.History)] = await db.PeerHistory.GetDetailAsync(name, address, cancellationToken),
            });
        });
    }
}
