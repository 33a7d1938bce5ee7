using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Relay.Db;
using Relay.Web.Markup;

namespace Relay.Web.Pages;

/// <summary>Destination policies (DESIGN.md § Policy levels) and IPsec OE classes per prefix: list, add, edit, delete.</summary>
public static class PolicyPages
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/policies", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var policies = await db.Policies.ListAsync(cancellationToken);
            var edit = context.Request.Query["edit"].FirstOrDefault();
            var current = policies.FirstOrDefault(p => p.Destination == edit);
            var form = current is null
                ? new FormValues("", "dane", "", "", "")
                : new FormValues(current.Destination, current.Level, string.Join(" ", current.Fingerprints), string.Join(" ", current.MatchNames), current.Note ?? "");
            return await Render(context, db, policies, form, [], new FormValues("", "private-or-clear", "", "", ""), [], StatusCodes.Status200OK, cancellationToken);
        });

        app.MapPost("/policies", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var f = context.Request.Form;
            var values = new FormValues(f["destination"].ToString(), f["level"].ToString(), f["fingerprints"].ToString(), f["match_names"].ToString(), f["note"].ToString());
            var (input, errors) = PolicyForm.ParseDestination(values.A, values.B, values.C, values.D, values.E);
            if (errors.Count > 0)
                return await Render(context, db, await db.Policies.ListAsync(cancellationToken), values, errors,
                    new FormValues("", "private-or-clear", "", "", ""), [], StatusCodes.Status400BadRequest, cancellationToken);
            await db.Policies.SetAsync(input.Destination, input.Level, input.Fingerprints, input.MatchNames, input.Note, cancellationToken);
            return Results.Redirect("/policies?done=policy-saved");
        });

        app.MapGet("/policies/delete", (HttpContext context) =>
        {
            var destination = context.Request.Query["destination"].ToString();
            return Layout.Page(context, "Delete destination policy", Html.Of($"""
                <p>Delete the explicit policy for <span class="literal">{destination}</span>? Delivery then falls back to the default level and opportunism.</p>
                <form method="post" action="/policies/delete">{Layout.Token(context)}<input type="hidden" name="destination" value="{destination}">
                <button type="submit" class="danger">Yes, delete</button> <a href="/policies">Cancel</a></form>
                """));
        });

        app.MapPost("/policies/delete", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
            await db.Policies.DeleteAsync(context.Request.Form["destination"].ToString(), cancellationToken)
                ? Results.Redirect("/policies?done=policy-deleted")
                : Layout.NotFound(context, "That destination policy"));

        app.MapPost("/policies/ipsec", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var f = context.Request.Form;
            var values = new FormValues(f["prefix"].ToString(), f["class"].ToString(), "", "", "");
            var (prefix, cls, errors) = PolicyForm.ParseIpsec(values.A, values.B);
            if (errors.Count > 0)
                return await Render(context, db, await db.Policies.ListAsync(cancellationToken), new FormValues("", "dane", "", "", ""), [],
                    values, errors, StatusCodes.Status400BadRequest, cancellationToken);
            await db.Policies.SetIpsecAsync(prefix, cls, cancellationToken);
            return Results.Redirect("/policies?done=ipsec-saved");
        });

        app.MapGet("/policies/ipsec/delete", (HttpContext context) =>
        {
            var prefix = context.Request.Query["prefix"].ToString();
            return Layout.Page(context, "Delete IPsec class", Html.Of($"""
                <p>Delete the IPsec class for <span class="literal">{prefix}</span>?</p>
                <form method="post" action="/policies/ipsec/delete">{Layout.Token(context)}<input type="hidden" name="prefix" value="{prefix}">
                <button type="submit" class="danger">Yes, delete</button> <a href="/policies">Cancel</a></form>
                """));
        });

        app.MapPost("/policies/ipsec/delete", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var (prefix, _, errors) = PolicyForm.ParseIpsec(context.Request.Form["prefix"].ToString(), "clear");
            return errors.Count == 0 && await db.Policies.DeleteIpsecAsync(prefix, cancellationToken)
                ? Results.Redirect("/policies?done=ipsec-deleted")
                : Layout.NotFound(context, "That IPsec class");
        });
    }

    /// <summary>Raw form text, echoed back (encoded) when validation fails so nothing typed is lost.</summary>
    private sealed record FormValues(string A, string B, string C, string D, string E);

    private static async Task<IResult> Render(HttpContext context, RelayDatabase db, IReadOnlyList<DestinationPolicyRow> policies, FormValues policy,
        IReadOnlyList<FieldError> policyErrors, FormValues ipsec, IReadOnlyList<FieldError> ipsecErrors, int status, CancellationToken cancellationToken)
    {
        var ipsecRows = await db.Policies.ListIpsecAsync(cancellationToken);
        var body = Html.Of($"""
            <table class="policies"><thead><tr><th>Destination</th><th>Level</th><th>Fingerprints</th><th>Match names</th><th>Note</th><th>Updated</th><th></th></tr></thead>
            <tbody>{Html.Join(policies, p => Html.Of($"""
                <tr data-destination="{p.Destination}"><td class="literal">{p.Destination}</td><td class="level">{p.Level}</td><td class="literal">{string.Join("\n", p.Fingerprints)}</td>
                <td class="literal">{string.Join(" ", p.MatchNames)}</td><td class="literal">{Layout.Text(p.Note)}</td><td>{Badges.Time(p.UpdatedAt)}</td>
                <td><a href="/policies?edit={Uri.EscapeDataString(p.Destination)}#policy-form">edit</a> <a href="/policies/delete?destination={Uri.EscapeDataString(p.Destination)}">delete</a></td></tr>
                """))}</tbody></table>
            {(policies.Count == 0 ? Html.Raw("<p class=\"muted\">No explicit policy: every destination gets the default level.</p>") : SafeHtml.Empty)}
            <h2 id="policy-form">Add or change a destination policy</h2>
            {Errors(policyErrors)}
            <form method="post" action="/policies" class="edit">{Layout.Token(context)}
              <label>Destination <input name="destination" value="{policy.A}" placeholder="example.com or .example.com"></label>
              <label>Level <select name="level">{Html.Join(Vocabulary.PolicyLevels, l => Layout.Option(l, l, policy.B))}</select></label>
              <label>Fingerprints (SHA-256, for fingerprint) <input name="fingerprints" value="{policy.C}" size="40"></label>
              <label>Match names (secure/verify) <input name="match_names" value="{policy.D}"></label>
              <label>Note <input name="note" value="{policy.E}"></label>
              <button type="submit">Save policy</button>
            </form>
            <h2>IPsec opportunistic encryption classes</h2>
            <table class="ipsec"><thead><tr><th>Prefix</th><th>Class</th><th>Updated</th><th></th></tr></thead>
            <tbody>{Html.Join(ipsecRows, r => Html.Of($"<tr><td class=\"literal\">{r.Prefix}</td><td>{r.Class}</td><td>{Badges.Time(r.UpdatedAt)}</td><td><a href=\"/policies/ipsec/delete?prefix={Uri.EscapeDataString(r.Prefix)}\">delete</a></td></tr>"))}</tbody></table>
            {Errors(ipsecErrors)}
            <form method="post" action="/policies/ipsec" class="edit">{Layout.Token(context)}
              <label>Prefix <input name="prefix" value="{ipsec.A}" placeholder="192.0.2.0/24"></label>
              <label>Class <select name="class">{Html.Join(Vocabulary.IpsecClasses, c => Layout.Option(c, c, ipsec.B))}</select></label>
              <button type="submit">Save class</button>
            </form>
            """);
        return Layout.Page(context, "Policies", body, status);
    }

    private static SafeHtml Errors(IReadOnlyList<FieldError> errors) =>
        Html.Join(errors, e => Html.Of($"<p class=\"error\" role=\"alert\" data-field=\"{e.Field}\"><strong>{e.Field}</strong>: {e.Message}</p>"));
}
