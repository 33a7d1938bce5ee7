using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Relay.Db;
using PolicyFields = Relay.Web.Pages.PoliciesView.PolicyFields;
using IpsecFields = Relay.Web.Pages.PoliciesView.IpsecFields;

namespace Relay.Web.Pages;

/// <summary>
/// Destination policies (DESIGN.md § Policy levels) and IPsec OE classes per prefix: list, add, edit, delete. The
/// handlers parse (PolicyForm) and store; the markup is PoliciesView.razor and DeleteConfirmView.razor.
/// </summary>
public static class PolicyPages
{
    private static readonly PolicyFields EmptyPolicy = new("", "dane", "", "", "");
    private static readonly IpsecFields EmptyIpsec = new("", "private-or-clear");

    public static void Map(WebApplication app)
    {
        app.MapGet("/policies", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var policies = await db.Policies.ListAsync(cancellationToken);
            var edit = context.Request.Query["edit"].FirstOrDefault();
            var form = policies.FirstOrDefault(p => p.Destination == edit) is { } current
                ? new PolicyFields(current.Destination, current.Level, string.Join(" ", current.Fingerprints), string.Join(" ", current.MatchNames), current.Note ?? "")
                : EmptyPolicy;
            return await RenderAsync(db, policies, form, [], EmptyIpsec, [], StatusCodes.Status200OK, cancellationToken);
        });

        app.MapPost("/policies", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var f = context.Request.Form;
            var values = new PolicyFields(f["destination"].ToString(), f["level"].ToString(), f["fingerprints"].ToString(), f["match_names"].ToString(), f["note"].ToString());
            var (input, errors) = PolicyForm.ParseDestination(values.Destination, values.Level, values.Fingerprints, values.MatchNames, values.Note);
            if (errors.Count > 0)
                return await RenderAsync(db, await db.Policies.ListAsync(cancellationToken), values, errors, EmptyIpsec, [],
                    StatusCodes.Status400BadRequest, cancellationToken);
            await db.Policies.SetAsync(input.Destination, input.Level, input.Fingerprints, input.MatchNames, input.Note, cancellationToken);
            return Results.Redirect("/policies?done=policy-saved");
        });

        app.MapGet("/policies/delete", (HttpContext context) => ConfirmDelete("Delete destination policy", "Delete the explicit policy for",
            context.Request.Query["destination"].ToString(), "? Delivery then falls back to the default level and opportunism.", "/policies/delete", "destination"));

        app.MapPost("/policies/delete", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
            await db.Policies.DeleteAsync(context.Request.Form["destination"].ToString(), cancellationToken)
                ? Results.Redirect("/policies?done=policy-deleted")
                : Layout.NotFound(context, "That destination policy"));

        app.MapPost("/policies/ipsec", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var f = context.Request.Form;
            var values = new IpsecFields(f["prefix"].ToString(), f["class"].ToString());
            var (prefix, cls, errors) = PolicyForm.ParseIpsec(values.Prefix, values.Class);
            if (errors.Count > 0)
                return await RenderAsync(db, await db.Policies.ListAsync(cancellationToken), EmptyPolicy, [], values, errors,
                    StatusCodes.Status400BadRequest, cancellationToken);
            await db.Policies.SetIpsecAsync(prefix, cls, cancellationToken);
            return Results.Redirect("/policies?done=ipsec-saved");
        });

        app.MapGet("/policies/ipsec/delete", (HttpContext context) => ConfirmDelete("Delete IPsec class", "Delete the IPsec class for",
            context.Request.Query["prefix"].ToString(), "?", "/policies/ipsec/delete", "prefix"));

        app.MapPost("/policies/ipsec/delete", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var (prefix, _, errors) = PolicyForm.ParseIpsec(context.Request.Form["prefix"].ToString(), "clear");
            return errors.Count == 0 && await db.Policies.DeleteIpsecAsync(prefix, cancellationToken)
                ? Results.Redirect("/policies?done=ipsec-deleted")
                : Layout.NotFound(context, "That IPsec class");
        });
    }

    private static RazorComponentResult<DeleteConfirmView> ConfirmDelete(string title, string lead, string value, string tail, string action, string field) =>
        new(new Dictionary<string, object?>
        {
            [nameof(DeleteConfirmView.Title)] = title, [nameof(DeleteConfirmView.Lead)] = lead, [nameof(DeleteConfirmView.Value)] = value,
            [nameof(DeleteConfirmView.Tail)] = tail, [nameof(DeleteConfirmView.Action)] = action, [nameof(DeleteConfirmView.Field)] = field,
            [nameof(DeleteConfirmView.CancelUrl)] = "/policies",
        });

    private static async Task<IResult> RenderAsync(RelayDatabase db, IReadOnlyList<DestinationPolicyRow> policies, PolicyFields policy,
        IReadOnlyList<FieldError> policyErrors, IpsecFields ipsec, IReadOnlyList<FieldError> ipsecErrors, int status, CancellationToken cancellationToken) =>
        new RazorComponentResult<PoliciesView>(new Dictionary<string, object?>
        {
            [nameof(PoliciesView.Policies)] = policies,
            [nameof(PoliciesView.IpsecClasses)] = await db.Policies.ListIpsecAsync(cancellationToken),
            [nameof(PoliciesView.Policy)] = policy,
            [nameof(PoliciesView.PolicyErrors)] = policyErrors,
            [nameof(PoliciesView.Ipsec)] = ipsec,
            [nameof(PoliciesView.IpsecErrors)] = ipsecErrors,
        }) { StatusCode = status };
}
