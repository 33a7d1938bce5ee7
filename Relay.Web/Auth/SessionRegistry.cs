using System.Security.Claims;
using System.Security.Cryptography;
using Relay.Db.Web;

namespace Relay.Web.Auth;

/// <summary>
/// Server-side record of live sessions, in PostgreSQL (web_sessions), so a session survives a restart of the web
/// process and works on every web process of the database. Each login gets a fresh random session id, carried as a
/// claim in the (encrypted) auth cookie and checked on every request: logout deletes its row, so a copied cookie stops
/// working everywhere, and a new login ends the browser's previous session (the session id is renewed at login).
/// </summary>
public sealed class SessionRegistry(WebSessionStore store, TimeSpan idleLifetime, TimeProvider clock)
{
    public const string ClaimType = "relay:sid";

    public async Task<string> StartAsync(string userName, CancellationToken cancellationToken)
    {
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        await store.StartAsync(id, userName, clock.GetUtcNow(), idleLifetime, cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>True while the session is live; each use moves its idle deadline.</summary>
    public async Task<bool> TouchAsync(ClaimsPrincipal? user, CancellationToken cancellationToken) =>
        IdOf(user) is { } id && await store.TouchAsync(id, clock.GetUtcNow(), idleLifetime, cancellationToken).ConfigureAwait(false);

    public async Task EndAsync(ClaimsPrincipal? user, CancellationToken cancellationToken)
    {
        if (IdOf(user) is { } id)
            await store.EndAsync(id, cancellationToken).ConfigureAwait(false);
    }

    private static string? IdOf(ClaimsPrincipal? user) => user?.FindFirst(ClaimType)?.Value;
}
