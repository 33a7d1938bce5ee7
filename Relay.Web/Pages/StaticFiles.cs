using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Relay.Web.Pages;

/// <summary>
/// The stylesheet (Static/app.css, embedded in the assembly) at /static/app.css: a file of its own so the CSP can forbid
/// inline styles. Read once at start-up; no directory on disk is served.
/// </summary>
public static class StaticFiles
{
    public const string StylesheetPath = "/static/app.css";

    public static void Map(WebApplication app)
    {
        var css = Read("static/app.css");
        app.MapGet(StylesheetPath, () => Results.Bytes(css, "text/css; charset=utf-8")).AllowAnonymous();
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(StaticFiles).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from Relay.Web");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
