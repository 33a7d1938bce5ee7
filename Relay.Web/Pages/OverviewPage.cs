using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Relay.Db;

namespace Relay.Web.Pages;

/// <summary>GET /: reads the overview and the smtp role's latest own-TLSA check; the markup is OverviewView.razor.</summary>
public static class OverviewPage
{
    public static void Map(WebApplication app) => app.MapGet("/", async (RelayDatabase db, CancellationToken cancellationToken) =>
        new RazorComponentResult<OverviewView>(new Dictionary<string, object?>
        {
            [nameof(OverviewView.Data)] = await db.OverviewReader.GetOverviewAsync(cancellationToken),
            [nameof(OverviewView.OwnTlsa)] = await db.OwnTlsa.LatestAsync(cancellationToken),
        }));
}
