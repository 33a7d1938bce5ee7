using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Web.Api;
using Relay.Web.Auth;
using Relay.Web.Pages;

namespace Relay.Web;

/// <summary>
/// The web role: builds a Kestrel app serving the admin pages and the JSON API. It reads what delivery
/// and the listener recorded and edits policy; it never calls them.
/// Usage: <c>var app = WebHost.Build(options, db); await app.StartAsync(); WebHost.BoundUrls(app)</c>.
/// </summary>
public static class WebHost
{
    public const string CookieName = "relay.session";
    public const string AntiforgeryCookieName = "relay.csrf";
    public const string AntiforgeryFieldName = "__csrf";
    /// <summary>Data Protection's application discriminator: the same in every web process, so they share one key ring.</summary>
    public const string DataProtectionApplicationName = "relay-web";

    /// <summary>Content-Security-Policy for every response: no script at all, styles only from our own stylesheet.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <exception cref="WebConfigurationException">no admin user or password hash, a malformed hash, or an unparsable listen address.</exception>
    public static WebApplication Build(WebOptions options, RelayDatabase db)
    {
        Validate(options);
        var clock = options.Clock ?? TimeProvider.System;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            // Never the developer exception page, whatever ASPNETCORE_ENVIRONMENT says: it would show stack traces to anyone.
            EnvironmentName = "Production",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // A start-up failure (a port in use) is thrown to the caller, which reports it in one line; the host's own
        // log of it would add a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        if (options.Loggers is not null)
        {
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(options.Loggers);
        }
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1 << 20;   // forms are small; nothing here accepts uploads
            foreach (var endpoint in ParseListen(options.Listen.Count == 0 ? WebOptions.DefaultListen : options.Listen))
                kestrel.Listen(endpoint, listen =>
                {
                    // HTTP/2 needs TLS (ALPN) in browsers; without a certificate the endpoint speaks HTTP/1.1 only.
                    listen.Protocols = options.Certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                    if (options.Certificate is not null)
                        listen.UseHttps(options.Certificate);
                });
        });

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(db);
        services.AddSingleton(clock);
        // Keys in PostgreSQL and one application name, whatever directory each process runs from: every web process on
        // the database opens the cookies and anti-forgery tokens any of them issued, across restarts.
        KeyRingProtection.Configure(services.AddDataProtection().SetApplicationName(DataProtectionApplicationName)
            .AddKeyManagementOptions(keys => keys.XmlRepository = new PostgresXmlRepository(db.DataProtectionKeys)), options);
        var sessionLifetime = options.SessionLifetime ?? TimeSpan.FromHours(8);
        var sessions = new SessionRegistry(db.WebSessions, sessionLifetime, clock);
        services.AddSingleton(sessions);
        services.AddSingleton(new LoginThrottle(db.LoginThrottle, options.LockoutThreshold, options.LockoutDuration ?? TimeSpan.FromMinutes(5),
            options.AccountDelay ?? TimeSpan.FromSeconds(30), clock));
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(cookie =>
        {
            cookie.Cookie.Name = CookieName;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = sessionLifetime;
            cookie.SlidingExpiration = true;
            cookie.Events.OnValidatePrincipal = async context =>
            {
                // A cookie whose session was logged out, replaced by a newer login or left idle is refused.
                if (!await sessions.TouchAsync(context.Principal, context.HttpContext.RequestAborted))
                    context.RejectPrincipal();
            };
            cookie.LoginPath = "/login";
            cookie.AccessDeniedPath = "/login";
            cookie.Events.OnRedirectToLogin = context =>
            {
                // Automation gets a status code, people get the login form.
                if (context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/export"))
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                else
                    // Relative: the Host header (filtered, but still the client's word) never reaches a Location.
                    context.Response.Redirect(Uri.TryCreate(context.RedirectUri, UriKind.Absolute, out var absolute) ? absolute.PathAndQuery : context.RedirectUri);
                return Task.CompletedTask;
            };
        });
        services.AddAuthorization(authorization =>
            authorization.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = AntiforgeryCookieName;
            antiforgery.Cookie.HttpOnly = true;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            antiforgery.FormFieldName = AntiforgeryFieldName;
            antiforgery.SuppressXFrameOptionsHeader = true;   // we send DENY ourselves
        });
        // Pages are Razor components rendered on the server (RazorComponentResult); nothing interactive, no script.
        services.AddRazorComponents();
        // Markup characters are still encoded; letters and marks of every script are written as UTF-8 (the page is UTF-8),
        // so "✔ trusted" and a UTF-8 address read as themselves in the source instead of as numeric references.
        services.AddSingleton(HtmlEncoder.Create(UnicodeRanges.All));
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.WriteIndented = false);

        var app = builder.Build();
        try
        {
            PostgresXmlRepository.EnsureKey(app.Services, db.DataProtectionKeys);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            // The UI still starts and says "database unavailable" per request; the key ring is read (or made) on first use.
            app.Logger.LogWarning("web: could not check the Data Protection key ring at start-up: {Error}", e.Message);
        }
        if (KeyRingProtection.Warning(options) is { } unencrypted)
            app.Logger.LogWarning("{Warning}", unencrypted);
        foreach (var warning in WebWarnings.PlainHttpOnOpenAddresses(options))
            app.Logger.LogWarning("{Warning}", warning);
        app.Use(SecurityHeaders);
        app.Use(RequestGuards.Run);
        app.Use(DatabaseTrouble);
        app.UseAuthentication();
        app.Use(RequireAntiforgeryOnUnsafeMethods);
        app.UseAuthorization();

        LoginEndpoints.Map(app);
        OverviewPage.Map(app);
        PeersPages.Map(app);
        DomainsPages.Map(app);
        PeerHistoryPages.Map(app);
        QueuePages.Map(app);
        PolicyPages.Map(app);
        InboundPage.Map(app);
        JsonApi.Map(app);
        CsvExport.Map(app);
        app.MapGet("/health", async (RelayDatabase database, CancellationToken cancellationToken) =>
        {
            try
            {
                await database.CheckReachableAsync(cancellationToken);
                return Results.Text("ok\n");
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
                return Results.Text("database unreachable\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).AllowAnonymous();
        StaticFiles.Map(app);
        return app;
    }

    /// <summary>The URLs Kestrel bound after <c>StartAsync</c> (real ports when the configuration said port 0).</summary>
    public static IReadOnlyList<string> BoundUrls(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static void Validate(WebOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.AdminUser))
            throw new WebConfigurationException("the web role refuses to start: Relay:Web:AdminUser is not set");
        if (string.IsNullOrWhiteSpace(options.AdminPasswordHash))
            throw new WebConfigurationException(
                "the web role refuses to start: Relay:Web:AdminPasswordHash is not set and there is no default password; " +
                "make one with `relay web hash-password` (password on stdin) and put it in the configuration");
        if (!PasswordHasher.IsWellFormed(options.AdminPasswordHash, out var problem))
            throw new WebConfigurationException($"the web role refuses to start: Relay:Web:AdminPasswordHash is unusable: {problem}");
        _ = ParseListen(options.Listen);
        if (options.KeyEncryptionCertificate is { } encryption && KeyRingProtection.Problem(encryption) is { } encryptionProblem)
            throw new WebConfigurationException($"the web role refuses to start: Relay:Web:KeyEncryptionCertificate: {encryptionProblem}");
        foreach (var retired in options.KeyDecryptionCertificates ?? [])
            if (KeyRingProtection.Problem(retired) is { } retiredProblem)
                throw new WebConfigurationException($"the web role refuses to start: Relay:Web:KeyDecryptionCertificates: {retiredProblem}");
    }

    internal static IReadOnlyList<IPEndPoint> ParseListen(IReadOnlyList<string> listen)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var entry in listen)
        {
            var text = entry.Trim();
            if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
                text = "127.0.0.1:" + text["localhost:".Length..];
            if (!IPEndPoint.TryParse(text, out var endpoint) || !text.Contains(':'))
                throw new WebConfigurationException($"the web role refuses to start: Relay:Web:Listen entry '{entry}' is not ADDRESS:PORT (e.g. 127.0.0.1:8080)");
            endpoints.Add(endpoint);
        }
        return endpoints;
    }

    private static async Task SecurityHeaders(HttpContext context, RequestDelegate next)
    {
        ApplySecurityHeaders(context.Response);
        if (context.Request.IsHttps)
            context.Response.Headers.StrictTransportSecurity = "max-age=31536000";
        await next(context);
    }

    internal static void ApplySecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // "no-cache" too: antiforgery checks for it and otherwise overrides the header with a warning on every page view.
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";
    }

    /// <summary>A database outage is the operator's likeliest trouble: say so instead of an empty 500.</summary>
    private static async Task DatabaseTrouble(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (IsDatabaseOutage(e) && !context.Response.HasStarted)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Relay.Web").LogError(e, "database error serving {Path}", context.Request.Path);
            context.Response.Clear();
            ApplySecurityHeaders(context.Response);
            await Layout.Message(context, "Database unavailable", "The database did not answer; nothing was changed. Try again in a moment.",
                StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
        }
    }

    /// <summary>
    /// The database did not answer, directly or under Data Protection, which wraps its key ring's failure to load (keys
    /// live in PostgreSQL) in a CryptographicException.
    /// </summary>
    private static bool IsDatabaseOutage(Exception e) => e switch
    {
        Npgsql.NpgsqlException or TimeoutException => !RequestGuards.IsRejectedInput(e),
        System.Security.Cryptography.CryptographicException { InnerException: { } inner } => IsDatabaseOutage(inner),
        _ => false,
    };

    private static async Task RequireAntiforgeryOnUnsafeMethods(HttpContext context, RequestDelegate next)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                await Layout.Message(context, "Request refused",
                    "The form did not carry a valid anti-forgery token (it expired, or it did not come from this site). Nothing was changed. Go back, reload and try again.",
                    StatusCodes.Status400BadRequest).ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    }

    internal static string UserName(ClaimsPrincipal user) => user.Identity?.Name ?? "";
}
