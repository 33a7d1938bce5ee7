using Relay.Policy.MtaSts;
using Relay.Policy.Planning;

namespace Relay.Policy.TlsRpt;

/// <summary>
/// The RFC 8460 §4.4 `policy` object one session was made under: its type, its `policy-string` lines and its `mx-host`
/// entries. Two sessions under equal policies are summed under one entry of a report's `policies`.
/// </summary>
public sealed record TlsRptPolicy(TlsRptPolicyType Type, IReadOnlyList<string> Strings, IReadOnlyList<string> MxHosts)
{
    public static TlsRptPolicy NoPolicyFound { get; } = new(TlsRptPolicyType.NoPolicyFound, [], []);

    /// <summary>
    /// The policy behind a session with <paramref name="peer"/>. DANE wins where both apply (RFC 8461 §2), as in the plan:
    /// a secure TLSA RRset (its records in presentation form, for that MX host) or a TLSA answer that failed validation is
    /// `tlsa`; an MTA-STS policy that shaped the peer (`enforce` or `testing`) is `sts` with the policy's lines and mx patterns.
    /// </summary>
    public static TlsRptPolicy For(DeliveryPlan plan, PeerPlan peer)
    {
        if (peer.TlsaStatus == TlsaStatus.Secure && peer.Tlsa.Count > 0)
            return new(TlsRptPolicyType.Tlsa, peer.Tlsa.Select(t => t.ToString()).ToArray(), [peer.Host]);
        if (peer.TlsaStatus == TlsaStatus.Bogus)
            return new(TlsRptPolicyType.Tlsa, [], [peer.Host]);
        if (peer.Sts is StsMode.Enforce or StsMode.Testing && plan.Sts?.Policy is { } sts)
            return new(TlsRptPolicyType.Sts, StsLines(sts), sts.Mx.ToArray());
        return NoPolicyFound;
    }

    /// <summary>The policy behind a next hop's failure when no session was opened (the plan itself failed, e.g. DANE required).</summary>
    public static TlsRptPolicy ForFailedPlan(DeliveryPlan plan, TlsRptResult? resultType) => resultType switch
    {
        TlsRptResult.StsPolicyFetchError or TlsRptResult.StsPolicyInvalid or TlsRptResult.StsWebpkiInvalid =>
            plan.Sts?.Policy is { } sts ? new(TlsRptPolicyType.Sts, StsLines(sts), sts.Mx.ToArray()) : new(TlsRptPolicyType.Sts, [], []),
        TlsRptResult.TlsaInvalid or TlsRptResult.DnssecInvalid or TlsRptResult.DaneRequired => new(TlsRptPolicyType.Tlsa, [], []),
        _ => NoPolicyFound,
    };

    /// <summary>
    /// The policy's lines as RFC 8460 §4.4 wants them: the fetched document's own lines (kept by the parser and cached with
    /// the policy, extension fields included). A policy cached before migration 0010 has only its parsed fields; its lines
    /// are rebuilt from them ("version: STSv1", "mode: …", each "mx: …", "max_age: …") until the next fetch.
    /// </summary>
    public static IReadOnlyList<string> StsLines(StsPolicy policy) => policy.Lines ??
        ["version: STSv1", $"mode: {policy.Mode.ToWire()}", .. policy.Mx.Select(m => $"mx: {m}"), $"max_age: {(long)policy.MaxAge.TotalSeconds}"];

    public bool Equals(TlsRptPolicy? other) =>
        other is not null && Type == other.Type && Strings.SequenceEqual(other.Strings) && MxHosts.SequenceEqual(other.MxHosts);

    public override int GetHashCode() => HashCode.Combine(Type, Strings.Count, Strings.FirstOrDefault(), MxHosts.FirstOrDefault());
}
