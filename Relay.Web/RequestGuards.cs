using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Relay.Web.Pages;

namespace Relay.Web;

/// <summary>
/// Refusals of bad requests, told apart from outages. Every refusal is a 400 with the normal refusal page and the
/// security headers, logged as one information line without a stack trace (anyone can send a broken request; that
/// is not the operator's emergency):
/// a Host header that is neither an address, localhost nor an allowed name (DNS rebinding, poisoned redirects);
/// a control character in the path, query or a form value (PostgreSQL refuses NUL in text, and no field needs one);
/// a form that cannot be read (over the 1 MiB body limit, too many fields, broken multipart, not a form at all);
/// a value PostgreSQL refuses as data (SQLSTATE class 22), which is bad input, not "database unavailable".
/// </summary>
public static class RequestGuards
{
    public static async Task Run(HttpContext context, RequestDelegate next)
    {
        var options = context.RequestServices.GetRequiredService<WebOptions>();
        if (!HostAllowed(context.Request.Host, options.AllowedHosts))
        {
            await RefuseAsync(context, "host", "This site does not answer to that host name. Use the address the operator configured.");
            return;
        }
        if (HasControl(context.Request.Path.Value) || context.Request.Query.Any(q => HasControl(q.Key) || q.Value.Any(HasControl)))
        {
            await RefuseAsync(context, "control character in the address", "The address contains a control character (such as NUL). Nothing was looked up.");
            return;
        }
        try
        {
            if (context.Request.HasFormContentType)
            {
                var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
                // Line breaks and tabs belong in notes and lists; nothing else below U+0020 does.
                if (form.Any(f => HasControl(f.Key) || f.Value.Any(v => v is not null && v.Any(c => char.IsControl(c) && c is not '\r' and not '\n' and not '\t'))))
                {
                    await RefuseAsync(context, "control character in a form field", "A form field contains a control character (such as NUL). Nothing was changed.");
                    return;
                }
            }
            else if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && HasBody(context.Request))
            {
                await RefuseAsync(context, $"body of type '{context.Request.ContentType}' is not a form",
                    "This site accepts only its own forms (application/x-www-form-urlencoded or multipart/form-data). Nothing was changed.");
                return;
            }
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (IsMalformedRequest(e) && !context.Response.HasStarted)
        {
            await RefuseAsync(context, e.Message, "The request could not be read: it is too large, has too many fields or is not a well-formed form. Nothing was changed.");
        }
        catch (Npgsql.PostgresException e) when (IsRejectedInput(e) && !context.Response.HasStarted)
        {
            await RefuseAsync(context, $"database refused a value ({e.SqlState})", "A value in the request is not acceptable (for example a character the database cannot store). Nothing was changed.");
        }
    }

    /// <summary>PostgreSQL's "data exception" class: the value was wrong, the database is fine.</summary>
    public static bool IsRejectedInput(Exception e) => e is Npgsql.PostgresException { SqlState: { Length: 5 } state } && state.StartsWith("22", StringComparison.Ordinal);

    /// <summary>
    /// IP literals cannot be rebound by a hostile DNS name and "localhost" is ours; any other name must be listed
    /// (Relay:Web:AllowedHosts), so a forged Host never becomes part of a page or a redirect.
    /// </summary>
    public static bool HostAllowed(HostString host, IReadOnlyList<string>? allowed)
    {
        if (!host.HasValue) return true;   // HTTP/1.0 without Host: nothing to echo
        var name = host.Host.Trim('[', ']');
        if (IPAddress.TryParse(name, out var address) && address.ToString().Equals(name, StringComparison.OrdinalIgnoreCase)) return true;
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return allowed is not null && allowed.Any(a => a.Trim().TrimEnd('.').Equals(name.TrimEnd('.'), StringComparison.OrdinalIgnoreCase));
    }

    // Kestrel's own BadHttpRequestException (body over MaxRequestBodySize) derives from the one in Http; a multipart
    // body that ends early is an IOException ("Unexpected end of Stream"), as is a client that went away mid-body.
    private static bool IsMalformedRequest(Exception e) => e is InvalidDataException or BadHttpRequestException or IOException;

    private static bool HasBody(HttpRequest request) => request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;

    private static bool HasControl(string? text) => text is not null && text.Any(char.IsControl);

    private static async Task RefuseAsync(HttpContext context, string reason, string text)
    {
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Relay.Web")
            .LogInformation("web: refused {Method} {Path} from {Client}: {Reason}", context.Request.Method, context.Request.Path,
                context.Connection.RemoteIpAddress, reason);
        context.Response.Clear();
        WebHost.ApplySecurityHeaders(context.Response);
        await Layout.Message(context, "Request refused", text, StatusCodes.Status400BadRequest).ExecuteAsync(context).ConfigureAwait(false);
    }
}
