using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Relay.Db;

namespace Relay.Web.Pages;

/// <summary>
/// GET /domains: per recipient domain, the policy its latest attempt was made under (tlsa, sts with its mode and the cached
/// policy's id and expiry, no-policy-found, and the operator's explicit policy), its last attempt and its session counts,
/// all from what delivery recorded — nothing is looked up in DNS here. The markup is DomainsView.razor.
/// </summary>
public static class DomainsPages
{
    public const string Url = "/domains";

    public static void Map(WebApplication app) => app.MapGet(Url, async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
    {
        var query = context.Request.Query;
        var search = query["q"].FirstOrDefault() is { Length: > 0 and <= 255 } q ? q : null;
        var within = query["within"].FirstOrDefault() is { } key && Filters.Within(key) is { } span ? (key, span) : ("week", TimeSpan.FromDays(7));
        var page = Layout.Paging(context, 100);
        return new RazorComponentResult<DomainsView>(new Dictionary<string, object?>
        {
            [nameof(DomainsView.Search)] = search,
            [nameof(DomainsView.Within)] = within.Item1,
            [nameof(DomainsView.Page)] = page,
            [nameof(DomainsView.Domains)] = await db.DomainReader.ListAsync(search, within.Item2, page, cancellationToken),
            [nameof(DomainsView.Policies)] = await db.Policies.ListAsync(cancellationToken),
        });
    });
}
