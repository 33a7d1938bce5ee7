using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Web.Markup;

namespace Relay.Web.Pages;

/// <summary>
/// The queue, a message's attempt timeline per recipient, and the operator actions. Each action is a
/// GET confirmation page (which changes nothing) followed by a POST with an anti-forgery token.
/// </summary>
public static class QueuePages
{
    private static readonly Dictionary<string, (string Verb, string Question, string Done)> actions = new(StringComparer.Ordinal)
    {
        ["retry"] = ("Retry now", "Make every waiting recipient of this message due now?", "retried"),
        ["hold"] = ("Hold", "Stop delivery of every waiting recipient of this message until it is released?", "held"),
        ["release"] = ("Release", "Release the held recipients of this message and make them due now?", "released"),
        ["bounce"] = ("Bounce", "Give up on every waiting recipient and send the sender a delivery status notification? Delivery sends it within moments.", "bounce-requested"),
        ["delete"] = ("Delete", "Delete this message and everything recorded about its recipients? This cannot be undone.", "deleted"),
    };

    public static string DetailUrl(string queueId) => "/queue/" + Uri.EscapeDataString(queueId);

    public static void Map(WebApplication app)
    {
        app.MapGet("/queue", async (HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var page = Layout.Paging(context);
            var state = Filters.State(context.Request.Query["state"].FirstOrDefault());
            var messages = await db.QueueReader.ListMessagesAsync(page, cancellationToken, state);
            return Layout.Page(context, "Queue", Html.Of($"""
                <form method="get" action="/queue" class="filters">
                  <label>State <select name="state">{Layout.Option("", "any", state)}{Html.Join(Vocabulary.RecipientStates, s => Layout.Option(s, s, state))}</select></label>
                  <button type="submit">Filter</button> <a href="/queue">clear</a>
                </form>
                <table class="messages"><thead><tr><th>Queue id</th><th>Sender</th><th>Recipients</th><th>Size</th><th>Received</th><th>State</th><th>Next attempt</th><th>Last reply</th><th>Arrived over</th></tr></thead>
                <tbody>{Html.Join(messages, m => Html.Of($"""
                    <tr data-queue-id="{m.QueueId}"><td><a href="{DetailUrl(m.QueueId)}">{m.QueueId}</a></td><td class="literal">{(m.Sender.Length == 0 ? "<>" : m.Sender)}</td>
                    <td class="literal">{string.Join("\n", m.Recipients)}</td><td>{m.Size}</td><td>{Badges.Time(m.Received)}</td><td>{Badges.State(m.State)}</td>
                    <td>{Badges.Time(m.NextAttempt)}</td><td class="literal reply">{Layout.Text(m.LastResult)}</td><td>{Badges.Transport(m.InboundTransport)}</td></tr>
                    """))}</tbody></table>
                {(messages.Count == 0 ? Html.Raw("<p class=\"muted\">The queue is empty.</p>") : SafeHtml.Empty)}
                {Layout.Pager(context, page, messages.Count)}
                """));
        });

        app.MapGet("/queue/{queueId}", async (string queueId, HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var message = await db.QueueReader.GetMessageAsync(queueId, cancellationToken);
            return message is null ? Layout.NotFound(context, "That message") : Layout.Page(context, $"Message {message.QueueId}", Detail(message));
        });

        app.MapGet("/queue/{queueId}/confirm", async (string queueId, HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var action = context.Request.Query["action"].ToString();
            if (!actions.TryGetValue(action, out var a))
                return Layout.Message(context, "Unknown action", "Choose retry, hold, release, bounce or delete.", StatusCodes.Status404NotFound);
            var message = await db.QueueReader.GetMessageAsync(queueId, cancellationToken);
            if (message is null)
                return Layout.NotFound(context, "That message");
            return Layout.Page(context, $"{a.Verb}: message {message.QueueId}", Html.Of($"""
                <p>{a.Question}</p>
                <p>From <span class="literal">{message.Sender}</span> to <span class="literal">{string.Join(", ", message.Recipients.Select(r => r.Address))}</span></p>
                <form method="post" action="{DetailUrl(message.QueueId)}/{action}">{Layout.Token(context)}
                  <button type="submit" class="{(action == "delete" ? "danger" : "")}">Yes, {a.Verb.ToLowerInvariant()}</button>
                  <a href="{DetailUrl(message.QueueId)}">Cancel</a>
                </form>
                """));
        });

        app.MapPost("/queue/{queueId}/{action}", async (string queueId, string action, HttpContext context, RelayDatabase db, ILoggerFactory loggers,
            CancellationToken cancellationToken) =>
        {
            if (!actions.TryGetValue(action, out var a))
                return Layout.Message(context, "Unknown action", "Choose retry, hold, release, bounce or delete.", StatusCodes.Status404NotFound);
            if (await db.QueueReader.GetMessageAsync(queueId, cancellationToken) is null)
                return Layout.NotFound(context, "That message");
            var changed = action switch
            {
                "retry" => await db.Admin.RetryAsync(queueId, cancellationToken),
                "hold" => await db.Admin.HoldAsync(queueId, cancellationToken),
                "bounce" => await db.Admin.RequestBounceAsync(queueId, cancellationToken),
                "release" => await db.Admin.ReleaseAsync(queueId, cancellationToken),
                _ => await db.Admin.DeleteAsync(queueId, cancellationToken) ? 1 : 0,
            };
            // One line per queue action: what, on which message, by whom, and whether anything changed.
            loggers.CreateLogger("web").LogInformation("web: queue {Action} {QueueId} by {User}: {Changed} change(s)",
                action, queueId, context.User.Identity?.Name ?? "-", changed);
            // POST-redirect-GET: reloading the result page never repeats the action.
            return Results.Redirect(action == "delete" && changed > 0 ? "/queue?done=deleted" : $"{DetailUrl(queueId)}?done={(changed > 0 ? a.Done : "nothing")}");
        });
    }

    private static SafeHtml Detail(MessageDetail m)
    {
        var buttons = Html.Join(actions, kv => Html.Of($"<a class=\"action\" href=\"{DetailUrl(m.QueueId)}/confirm?action={kv.Key}\">{kv.Value.Verb}</a> "));
        var timelines = Html.Join(m.Recipients, r =>
        {
            var attempts = m.Attempts.Where(a => a.Recipients.Any(ar => ar.RecipientId == r.Id)).OrderBy(a => a.StartedAt).ToList();
            return Html.Of($"""
                <h3><span class="literal">{r.Address}</span> {Badges.State(r.State)}</h3>
                <p class="muted">{r.Attempts} attempt(s); {(r.State is "delivered" or "bounced" ? Html.Raw("final") : Html.Of($"next attempt {Badges.Time(r.NextAttempt)}"))}; last result: <span class="literal">{r.LastResult ?? "—"}</span></p>
                {AttemptTable.Render(attempts, showPeer: true)}
                """);
        });
        return Html.Of($"""
            <p class="actions">{buttons}</p>
            <dl class="facts">
              <dt>Sender</dt><dd class="literal">{(m.Sender.Length == 0 ? "<>" : m.Sender)}</dd>
              <dt>Size</dt><dd>{m.Size} bytes, {m.BodyType}{(m.SmtpUtf8 ? ", SMTPUTF8" : "")}{(m.RequireTls ? ", REQUIRETLS" : "")}</dd>
              <dt>Received</dt><dd>{Badges.Time(m.Received)}</dd>
              <dt>From client</dt><dd><span class="literal">{m.ClientAddress}</span> HELO <span class="literal client-helo">{m.ClientHelo ?? "—"}</span>{(m.ClientAuth is null ? SafeHtml.Empty : Html.Of($", authenticated as <span class=\"literal\">{m.ClientAuth}</span>"))}</dd>
              <dt>Arrived over</dt><dd>{Badges.Transport(m.Inbound.Transport)} {Layout.Text(m.Inbound.TlsVersion)} {m.Inbound.TlsCipher}</dd>
            </dl>
            <h2>Attempt timeline per recipient</h2>
            {timelines}
            """);
    }
}
