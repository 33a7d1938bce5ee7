namespace Relay.Policy.Planning;

/// <summary>The policy in force for one next hop, and where it came from (shown by `relay check`).</summary>
public sealed record ResolvedPolicy(PolicyLevel Level, string Source, DestinationPolicy? Explicit)
{
    public IReadOnlyList<string> Fingerprints => Explicit?.Fingerprints ?? [];
    public IReadOnlyList<string> MatchNames => Explicit?.MatchNames ?? [];
    public static ResolvedPolicy Default(PolicyLevel level) => new(level, "default", null);
}

/// <summary>
/// Lookup order, as Postfix's smtp_tls_policy_maps: the route as configured, the exact domain, then
/// ".parent" entries from the closest parent outwards, then the configured default. An explicit entry
/// always wins over opportunism (RFC 7435 §6).
/// </summary>
public sealed class PolicyTable
{
    private readonly Dictionary<string, DestinationPolicy> _byDestination;

    public PolicyTable(IEnumerable<DestinationPolicy> policies, PolicyLevel defaultLevel = PolicyLevel.Dane)
    {
        // A default of `fingerprint` cannot work: there is nothing to pin for every destination.
        if (defaultLevel == PolicyLevel.Fingerprint) throw new FormatException("default policy level 'fingerprint' needs per-destination fingerprints; use it only in the table");
        DefaultLevel = defaultLevel;
        _byDestination = new Dictionary<string, DestinationPolicy>(StringComparer.Ordinal);
        foreach (var p in policies) _byDestination[p.Destination] = p;
    }

    public PolicyLevel DefaultLevel { get; }

    public IReadOnlyCollection<DestinationPolicy> Entries => _byDestination.Values;

    public ResolvedPolicy Lookup(string domain, string? route = null)
    {
        if (route is not null && _byDestination.TryGetValue(route.Trim().ToLowerInvariant(), out var byRoute))
            return new ResolvedPolicy(byRoute.Level, "explicit " + byRoute.Destination, byRoute);
        var name = domain.Trim().TrimEnd('.').ToLowerInvariant();
        if (_byDestination.TryGetValue(name, out var exact))
            return new ResolvedPolicy(exact.Level, "explicit " + exact.Destination, exact);
        for (var dot = name.IndexOf('.'); dot >= 0; dot = name.IndexOf('.', dot + 1))
            if (_byDestination.TryGetValue(name[dot..], out var parent))
                return new ResolvedPolicy(parent.Level, "explicit " + parent.Destination, parent);
        return ResolvedPolicy.Default(DefaultLevel);
    }
}
