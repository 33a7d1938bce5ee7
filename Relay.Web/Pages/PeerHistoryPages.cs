using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Relay.Db;
using Relay.Policy.History;

namespace Relay.Web.Pages;

/// <summary>
/// Downgrade detection from peer history (RFC 7435 §3) in the UI: the list of attempts flagged as possible downgrades
/// (DowngradesView.razor) and the forget action (a POST with the anti-forgery token, as every form). Forgetting deletes
/// the peer's history (not its attempts): its flag and downgrade protection end. The peer page's section is
/// PeerHistorySection.razor.
/// </summary>
public static class PeerHistoryPages
{
    public const string DowngradesUrl = "/peers/downgrades";

    public static void Map(WebApplication app)
    {
        app.MapGet(DowngradesUrl, async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var page = Layout.Paging(context, 50);
            return new RazorComponentResult<DowngradesView>(new Dictionary<string, object?>
            {
                [nameof(DowngradesView.Attempts)] = await db.AttemptReader.ListDowngradesAsync(page, cancellationToken),
                [nameof(DowngradesView.Page)] = page,
            });
        });

        app.MapPost("/peers/forget", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var form = context.Request.Form;
            var (name, error) = PeerName.Parse(form["name"].ToString());
            var (address, addressError) = PeerName.Parse(form["address"].ToString());
            if (name is null || address is null)
                return Layout.Message(context, "Not a peer", error ?? addressError ?? "", StatusCodes.Status400BadRequest);
            return await db.Peers.ForgetPeerAsync(name, address, cancellationToken) > 0
                ? Results.Redirect("/peers?done=peer-forgotten")
                : Layout.NotFound(context, "That peer");
        });
    }
}
