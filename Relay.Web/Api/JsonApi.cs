using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Relay.Db;
using Relay.Web.Pages;

namespace Relay.Web.Api;

/// <summary>
/// Read-only JSON for automation: every list of the pages, paged with <c>offset</c> and <c>limit</c>
/// (at most <see cref="Db.Page.MaxLimit"/>), the same filters as the pages. Values are the stored words
/// and texts, JSON-encoded by System.Text.Json; nothing here changes state.
/// </summary>
public static class JsonApi
{
    public sealed record PagedList<T>(int Offset, int Limit, IReadOnlyList<T> Items);

    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/overview", async (RelayDatabase db, CancellationToken ct) => Results.Json(await db.OverviewReader.GetOverviewAsync(ct)));
        api.MapGet("/peers", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
            Paged(context, await db.PeerReader.ListPeersAsync(Filters.Peers(context.Request.Query), Layout.Paging(context), ct)));
        api.MapGet("/peers/detail", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
        {
            var (name, address) = (context.Request.Query["name"].ToString(), context.Request.Query["address"].ToString());
            var peer = await db.PeerReader.GetPeerAsync(name, address, ct);
            return peer is null ? Results.NotFound() : Results.Json(new { peer, evidence = await db.PeerReader.GetPeerEvidenceAsync(name, address, ct) });
        });
        api.MapGet("/peers/attempts", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
            Paged(context, await db.PeerReader.ListPeerAttemptsAsync(context.Request.Query["name"].ToString(), context.Request.Query["address"].ToString(),
                Layout.Paging(context), ct)));
        api.MapGet("/attempts", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
            Paged(context, await db.AttemptReader.ListAttemptsAsync(Layout.Paging(context), ct)));
        api.MapGet("/messages", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
            Paged(context, await db.QueueReader.ListMessagesAsync(Layout.Paging(context), ct, Filters.State(context.Request.Query["state"].FirstOrDefault()))));
        api.MapGet("/messages/{queueId}", async (string queueId, RelayDatabase db, CancellationToken ct) =>
            await db.QueueReader.GetMessageAsync(queueId, ct) is { } message ? Results.Json(message) : Results.NotFound());
        api.MapGet("/policies", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
            Paged(context, Slice(await db.Policies.ListAsync(ct), Layout.Paging(context))));
        api.MapGet("/ipsec", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
            Paged(context, Slice(await db.Policies.ListIpsecAsync(ct), Layout.Paging(context))));
        api.MapGet("/inbound", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
            Paged(context, await db.InboundReader.ListInboundSessionsAsync(Filters.Inbound(context.Request.Query), Layout.Paging(context), ct)));
        api.MapGet("/inbound/senders", async (HttpContext context, RelayDatabase db, CancellationToken ct) =>
            Paged(context, await db.InboundReader.ListInboundSendersAsync(Filters.Inbound(context.Request.Query), Layout.Paging(context), ct)));
    }

    private static IResult Paged<T>(HttpContext context, IReadOnlyList<T> items)
    {
        var page = Layout.Paging(context);
        return Results.Json(new PagedList<T>(page.SafeOffset, page.SafeLimit, items));
    }

    // The policy tables are small and listed whole by Relay.Db; paging them here keeps the API uniform.
    private static IReadOnlyList<T> Slice<T>(IReadOnlyList<T> rows, Page page) => rows.Skip(page.SafeOffset).Take(page.SafeLimit).ToList();
}
