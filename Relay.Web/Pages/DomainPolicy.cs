using Relay.Db;
using Relay.Policy;
using Relay.Policy.Planning;

namespace Relay.Web.Pages;

/// <summary>
/// What the domains screen says about the policy behind a domain's latest attempt, from the recorded words only: the RFC
/// 8460 policy type (parsed with Relay.Policy's enum and written back with <c>ToWire()</c>, so an unknown stored word is
/// shown as unknown, never as a policy), the MTA-STS mode recorded in the attempt's policy strings, and the operator's
/// explicit policy that covers the domain in the policy table (configuration, not DNS).
/// </summary>
public sealed record DomainPolicy(TlsRptPolicyType? Type, string? UnknownType, StsMode? StsMode, int TlsaRecords, IReadOnlyList<string> TypesSeen)
{
    public static DomainPolicy From(DomainView domain)
    {
        TlsRptPolicyType? type = null;
        string? unknown = null;
        if (domain.LastPolicyType is { } text)
        {
            try { type = TlsRptPolicyTypeWire.Parse(text); }
            catch (FormatException) { unknown = text; }
        }
        StsMode? mode = null;
        if (type == TlsRptPolicyType.Sts)
            foreach (var line in domain.LastPolicyStrings)
                if (line.StartsWith("mode:", StringComparison.Ordinal) && StsModeWire.TryParse(line["mode:".Length..].Trim(), out var m)) mode = m;
        var seen = new List<string>();
        foreach (var word in domain.PolicyTypesSeen)
        {
            try { seen.Add(TlsRptPolicyTypeWire.Parse(word).ToWire()); }
            catch (FormatException) { seen.Add($"unknown ({word})"); }
        }
        return new DomainPolicy(type, unknown, mode, type == TlsRptPolicyType.Tlsa ? domain.LastPolicyStrings.Count : 0, seen);
    }

    /// <summary>The explicit policy (destination_policies) that covers the domain now, as planning looks it up; null: none.</summary>
    public static DestinationPolicy? Explicit(string domain, IReadOnlyList<DestinationPolicyRow> rows)
    {
        var policies = new List<DestinationPolicy>();
        foreach (var row in rows)
        {
            // Rows are validated on write; one edited by hand in SQL is skipped here (delivery defers on it, the policies page shows it).
            try { policies.Add(DestinationPolicy.FromWire(row.Destination, row.Level, row.Fingerprints, row.MatchNames, row.Note)); }
            catch (FormatException) { }
        }
        return new PolicyTable(policies).Lookup(domain).Explicit;
    }

    public static string DomainUrl(string domain) => $"/domains?q={Uri.EscapeDataString(domain)}";

    public static string PeersUrl(string domain) => $"/peers?q={Uri.EscapeDataString(domain)}";
}
