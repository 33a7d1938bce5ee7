using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Db.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Relay.Web.Pages;

namespace Relay.Web.Auth;

/// <summary>Login and logout. Both are POSTs with anti-forgery tokens (login CSRF is a thing too).</summary>
public static class LoginEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/login", (HttpContext context) => LoginForm(context, error: null, StatusCodes.Status200OK)).AllowAnonymous();

        app.MapPost("/login", async (HttpContext context, WebOptions options, LoginThrottle throttle, SessionRegistry sessions,
            TimeProvider clock, ILoggerFactory loggers) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            var user = form["user"].ToString();
            var password = form["password"].ToString();
            // Both checks always run so the timing does not tell which one failed; they run before the throttle is asked,
            // so an attempt costs one round trip to it. A locked attempt is refused whatever they found.
            var userMatches = CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(user), Encoding.UTF8.GetBytes(options.AdminUser));
            var passwordMatches = PasswordHasher.Verify(password, options.AdminPasswordHash!);
            var (outcome, wait) = await throttle.AttemptAsync(client, options.AdminUser, userMatches, userMatches && passwordMatches, context.RequestAborted);
            switch (outcome)
            {
                case LoginThrottleOutcome.AddressLocked:
                    return LoginForm(context, $"Too many failed logins from this address. Try again in {Math.Ceiling(wait!.Value.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s.",
                        StatusCodes.Status429TooManyRequests);
                case LoginThrottleOutcome.AccountLocked:
                    return LoginForm(context, AccountLocked(clock, wait!.Value), StatusCodes.Status429TooManyRequests);
                case LoginThrottleOutcome.AccountLockout:
                    loggers.CreateLogger("Relay.Web").LogWarning("web: admin login locked for {Seconds} s after repeated failed logins (last from {Client})",
                        Math.Ceiling(wait!.Value.TotalSeconds), client);
                    return LoginForm(context, AccountLocked(clock, wait.Value), StatusCodes.Status429TooManyRequests);
                case LoginThrottleOutcome.Failed:
                    return LoginForm(context, "Wrong user name or password.", StatusCodes.Status401Unauthorized);
                case LoginThrottleOutcome.Succeeded:
                    break;
            }
            // Session renewal: the browser's previous session (if any) ends here and the sign-in carries a fresh
            // random session id, so a planted or stolen earlier id is worthless.
            await sessions.EndAsync(context.User, context.RequestAborted);
            var sessionId = await sessions.StartAsync(options.AdminUser, context.RequestAborted);
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, options.AdminUser), new Claim(SessionRegistry.ClaimType, sessionId)],
                CookieAuthenticationDefaults.AuthenticationScheme);
            await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity),
                new AuthenticationProperties { IsPersistent = false });
            return Results.Redirect(AsciiLocation(LocalReturnUrl(form["returnUrl"].ToString())), permanent: false, preserveMethod: false);
        }).AllowAnonymous();

        app.MapPost("/logout", async (HttpContext context, SessionRegistry sessions) =>
        {
            await sessions.EndAsync(context.User, context.RequestAborted);
            // The server-side session is gone, so the old cookie is worthless even if someone kept a copy.
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/login");
        });
    }

    /// <summary>Only paths on this site: anything else (absolute, scheme-relative, backslash tricks) goes to the overview.</summary>
    public static string LocalReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && !url.Contains('\\')
            && !url.Any(char.IsControl)
            ? url : "/";

    private static string AccountLocked(TimeProvider clock, TimeSpan wait) =>
        "Too many failed logins for this account: it is locked until "
        + (clock.GetUtcNow() + wait).UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)
        + $" UTC (in {Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s), even for the right password. Each further failure doubles the wait.";

    /// <summary>
    /// Location headers are ASCII: anything else in a local path (here only after the checks above) is percent-encoded
    /// as UTF-8, so a ReturnUrl such as /%E2%80%8B leads back to the same path instead of a 500.
    /// </summary>
    public static string AsciiLocation(string path)
    {
        if (path.All(c => c is > ' ' and < '\x7f')) return path;
        var result = new StringBuilder();
        foreach (var rune in path.EnumerateRunes())
        {
            if (rune.Value is > ' ' and < 0x7f) result.Append((char)rune.Value);
            else
                foreach (var b in Encoding.UTF8.GetBytes(rune.ToString()))
                    result.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return result.ToString();
    }

    private static IResult LoginForm(HttpContext context, string? error, int statusCode) =>
        new RazorComponentResult<LoginView>(new Dictionary<string, object?>
        {
            [nameof(LoginView.Error)] = error,
            [nameof(LoginView.ReturnUrl)] = LocalReturnUrl(context.Request.Query["ReturnUrl"].FirstOrDefault() ?? context.Request.FormValue("returnUrl")),
        }) { StatusCode = statusCode };

    private static string? FormValue(this HttpRequest request, string key) => request.HasFormContentType ? request.Form[key].FirstOrDefault() : null;
}
