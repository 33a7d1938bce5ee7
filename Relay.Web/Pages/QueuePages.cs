using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Microsoft.AspNetCore.Http.HttpResults;

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
            return new RazorComponentResult<QueueView>(new Dictionary<string, object?>
            {
                [nameof(QueueView.State)] = state,
                [nameof(QueueView.Page)] = page,
                [nameof(QueueView.Messages)] = await db.QueueReader.ListMessagesAsync(page, cancellationToken, state),
            });
        });

        app.MapGet("/queue/{queueId}", async (string queueId, HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
            await db.QueueReader.GetMessageAsync(queueId, cancellationToken) is { } message
                ? new RazorComponentResult<MessageDetailView>(new Dictionary<string, object?>
                {
                    [nameof(MessageDetailView.Message)] = message,
                    [nameof(MessageDetailView.Actions)] = actions.Select(a => (a.Key, a.Value.Verb)).ToList(),
                })
                : Layout.NotFound(context, "That message"));

        app.MapGet("/queue/{queueId}/confirm", async (string queueId, HttpContext context, RelayDatabase db, CancellationToken cancellationToken) =>
        {
            var action = context.Request.Query["action"].ToString();
            if (!actions.TryGetValue(action, out var a))
                return Layout.Message(context, "Unknown action", "Choose retry, hold, release, bounce or delete.", StatusCodes.Status404NotFound);
            var message = await db.QueueReader.GetMessageAsync(queueId, cancellationToken);
            if (message is null)
                return Layout.NotFound(context, "That message");
            return new RazorComponentResult<QueueConfirmView>(new Dictionary<string, object?>
            {
                [nameof(QueueConfirmView.Message)] = message,
                [nameof(QueueConfirmView.Action)] = action,
                [nameof(QueueConfirmView.Verb)] = a.Verb,
                [nameof(QueueConfirmView.Question)] = a.Question,
            });
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
}
