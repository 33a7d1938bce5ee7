using System.Collections.Concurrent;

namespace Relay.Server.Operations;

/// <summary>
/// Warnings the roles raise for /readyz's detail (our own TLSA record no longer matching, the IPsec sidecar not
/// answering, …), and the word of each check that passed. A warning does not make the process unready: taking an MX out
/// of rotation does not fix its DNS or restart pluto; only an unreachable database does.
/// </summary>
public sealed class ServerHealth
{
    private readonly ConcurrentDictionary<string, string> warnings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> passed = new(StringComparer.Ordinal);

    public void Warn(string check, string detail)
    {
        passed.TryRemove(check, out _);
        warnings[check] = detail;
    }

    /// <summary>The check has no problem; <paramref name="detail"/> is what /readyz shows for it under <c>checks</c>.</summary>
    public void Pass(string check, string detail)
    {
        warnings.TryRemove(check, out _);
        passed[check] = detail;
    }

    public void Clear(string check) => warnings.TryRemove(check, out _);

    public IReadOnlyDictionary<string, string> Warnings => new SortedDictionary<string, string>(warnings, StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Passed => new SortedDictionary<string, string>(passed, StringComparer.Ordinal);
}
