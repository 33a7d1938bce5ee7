using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;

namespace Relay.Web.Auth;

/// <summary>
/// Server-side record of live sessions. Each login gets a fresh random session id, carried as a claim in
/// the (encrypted) auth cookie and checked on every request: logout removes it, so a copied cookie stops
/// working, and a new login removes the browser's previous id (the session id is renewed at login).
/// Sessions live in this process only; a restart logs everyone out.
/// </summary>
public sealed class SessionRegistry(TimeSpan idleLifetime, TimeProvider clock)
{
    public const string ClaimType = "relay:sid";

    private readonly ConcurrentDictionary<string, DateTimeOffset> lastSeen = new(StringComparer.Ordinal);

    public int Count => lastSeen.Count;

    public string Start()
    {
        Sweep();
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        lastSeen[id] = clock.GetUtcNow();
        return id;
    }

    /// <summary>True while the session is live; each use moves its idle deadline.</summary>
    public bool Touch(ClaimsPrincipal? user)
    {
        if (IdOf(user) is not { } id || !lastSeen.TryGetValue(id, out var seen))
            return false;
        var now = clock.GetUtcNow();
        if (now - seen > idleLifetime)
        {
            lastSeen.TryRemove(id, out _);
            return false;
        }
        lastSeen.TryUpdate(id, now, seen);
        return true;
    }

    public void End(ClaimsPrincipal? user)
    {
        if (IdOf(user) is { } id)
            lastSeen.TryRemove(id, out _);
    }

    private static string? IdOf(ClaimsPrincipal? user) => user?.FindFirst(ClaimType)?.Value;

    private void Sweep()
    {
        var now = clock.GetUtcNow();
        foreach (var (id, seen) in lastSeen)
            if (now - seen > idleLifetime)
                lastSeen.TryRemove(id, out _);
    }
}
