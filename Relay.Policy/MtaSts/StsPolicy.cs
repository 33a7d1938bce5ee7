namespace Relay.Policy.MtaSts;

/// <summary>
/// A parsed MTA-STS policy (RFC 8461 §3.2). <see cref="Mx"/> holds the patterns lower-cased without a trailing dot;
/// a pattern `*.example.net` stands for exactly one more label (§4.1).
/// </summary>
public sealed record StsPolicy(StsMode Mode, IReadOnlyList<string> Mx, TimeSpan MaxAge)
{
    /// <summary>RFC 8461 §3.2: max_age is at most 31557600 seconds (about a year).</summary>
    public const long MaxAgeLimitSeconds = 31_557_600;

    /// <summary>
    /// The document's own lines as fetched (line ends removed), extension fields included: RFC 8460 §4.4's `policy-string`
    /// for an sts policy. Null when only the parsed fields are known (a cache row from before migration 0010). Not part of
    /// equality: two documents that say the same thing are the same policy.
    /// </summary>
    public IReadOnlyList<string>? Lines { get; init; }

    /// <summary>Whether <paramref name="host"/> (an MX exchange) is one the policy lets carry mail (§4.1).</summary>
    public bool MatchesMx(string host)
    {
        var name = host.TrimEnd('.').ToLowerInvariant();
        foreach (var pattern in Mx)
        {
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                var suffix = pattern[1..]; // ".example.net"
                if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal) && !name[..^suffix.Length].Contains('.'))
                    return true;
            }
            else if (name == pattern) return true;
        }
        return false;
    }

    public bool Equals(StsPolicy? other) => other is not null && Mode == other.Mode && MaxAge == other.MaxAge && Mx.SequenceEqual(other.Mx);

    public override int GetHashCode() => HashCode.Combine(Mode, MaxAge, Mx.Count);
}
