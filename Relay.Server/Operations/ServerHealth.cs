using System.Collections.Concurrent;

namespace Relay.Server.Operations;

/// <summary>
/// Warnings the roles raise for /readyz's detail (our own TLSA record no longer matching, …). A warning does not make
/// the process unready: taking an MX out of rotation does not fix its DNS; only an unreachable database does.
/// </summary>
public sealed class ServerHealth
{
    private readonly ConcurrentDictionary<string, string> warnings = new(StringComparer.Ordinal);

    public void Warn(string check, string detail) => warnings[check] = detail;

    public void Clear(string check) => warnings.TryRemove(check, out _);

    public IReadOnlyDictionary<string, string> Warnings => new SortedDictionary<string, string>(warnings, StringComparer.Ordinal);
}
