using System.Net;
using Relay.Dns;
using Relay.Policy.Certificates;
using Relay.Policy.Dane;

namespace Relay.Policy.Planning;

/// <summary>
/// PlanFor: policy level + DNS answers → a plan per peer (RFC 7672 §2). A pure function: it reads only
/// <see cref="DnsAnswers"/> and says which questions it still needs, so tests feed it answers directly
/// and <see cref="DeliveryPlanService"/> feeds it a resolver's.
/// </summary>
public static class DeliveryPlanner
{
    public static PlanStep PlanFor(NextHop hop, ResolvedPolicy policy, DnsAnswers answers)
    {
        MxDnssec mx;
        string? expandedNextHop = null;
        var hosts = new List<(string Host, int Preference)>();
        if (hop.RouteAddress is { } literal)
        {
            var peer = LiteralPeer(hop, policy, literal);
            return Done(hop, policy, MxDnssec.Route, [peer]);
        }
        if (hop.RouteHost is { } routeHost)
        {
            mx = MxDnssec.Route;
            hosts.Add((routeHost, 0));
        }
        else
        {
            var result = answers.Get(hop.Domain, DnsType.MX);
            if (result is null) return Need(new DnsLookup(hop.Domain, DnsType.MX));
            switch (result)
            {
                case DnsResult.Secure or DnsResult.Insecure:
                    mx = result is DnsResult.Secure ? MxDnssec.Secure : MxDnssec.Insecure;
                    var records = result.RecordsOf<MxRecord>();
                    if (records.Count == 0) return Failed(hop, policy, mx, PlanFailureKind.MxLookupFailed, $"MX answer for {hop.Domain} holds no MX records");
                    if (records.All(r => r.IsNullMx)) return Failed(hop, policy, mx, PlanFailureKind.NullMx, $"{hop.Domain} accepts no mail (null MX, RFC 7505)");
                    // Preference order only; a stable sort keeps DNS order within a preference (RFC 7672 §2.2.1:
                    // TLSA presence never promotes a less preferred MX).
                    foreach (var r in records.Where(r => !r.IsNullMx).OrderBy(r => r.Preference))
                    {
                        var name = NextHop.Normalize(r.Exchange);
                        if (!hosts.Any(h => h.Host == name)) hosts.Add((name, r.Preference));
                    }
                    break;
                case DnsResult.NoData noData:
                    // Implicit MX (RFC 5321 §5.1): the domain is its own host, and still a DANE candidate (RFC 7672 §2.2.1).
                    mx = noData.IsSecure ? MxDnssec.Secure : MxDnssec.Insecure;
                    hosts.Add((hop.Domain, 0));
                    break;
                case DnsResult.NxDomain nx:
                    return Failed(hop, policy, nx.IsSecure ? MxDnssec.Secure : MxDnssec.Insecure, PlanFailureKind.NoSuchDomain, $"{hop.Domain} does not exist (NXDOMAIN)");
                case DnsResult.Bogus bogus:
                    return Failed(hop, policy, MxDnssec.Bogus, PlanFailureKind.MxLookupFailed, $"MX lookup for {hop.Domain} failed DNSSEC validation ({bogus})",
                        TlsRptResult.DnssecInvalid);
                case DnsResult.Error error:
                    return Failed(hop, policy, MxDnssec.Error, PlanFailureKind.MxLookupFailed, $"MX lookup for {hop.Domain} failed: {error.Kind}: {error.Reason}");
                default:
                    return Failed(hop, policy, MxDnssec.Error, PlanFailureKind.MxLookupFailed, $"MX lookup for {hop.Domain}: unexpected answer {result}");
            }
            if (mx == MxDnssec.Secure && result.Chain.IsAlias && result.Chain.AllLinksSecure)
                expandedNextHop = NextHop.Normalize(result.Chain.ExpandedName);
        }

        var missing = new List<DnsLookup>();
        var peers = new List<PeerPlan>();
        foreach (var (host, preference) in hosts)
        {
            var peer = PlanHost(hop, policy, mx, expandedNextHop, host, preference, answers, missing);
            if (peer is not null) peers.Add(peer);
        }
        return missing.Count > 0 ? new PlanStep(null, missing.Distinct().ToArray()) : Done(hop, policy, mx, peers);
    }

    private static PeerPlan? PlanHost(NextHop hop, ResolvedPolicy policy, MxDnssec mx, string? expandedNextHop,
        string host, int preference, DnsAnswers answers, List<DnsLookup> missing)
    {
        var a = answers.Get(host, DnsType.A);
        var aaaa = answers.Get(host, DnsType.AAAA);
        if (a is null) missing.Add(new DnsLookup(host, DnsType.A));
        if (aaaa is null) missing.Add(new DnsLookup(host, DnsType.AAAA));
        if (a is null || aaaa is null) return null;

        var address = HostAddresses.From(a, aaaa);
        var peer = new PeerPlan(host, preference, address.Addresses, policy.Level, PeerMode.Skip, mx, address.Status,
            TlsaStatus.NotQueried, null, [], [], host, [new ReferenceIdentifier(host)], policy.Fingerprints, false, "");
        if (address.Problem is not null)
            return peer with { Sni = null, Why = address.Problem };

        switch (policy.Level)
        {
            case PolicyLevel.None:
                return peer with { Mode = PeerMode.Cleartext, CleartextFallbackAllowed = true, Why = "policy none: no STARTTLS" };
            case PolicyLevel.May:
                return peer with { Mode = PeerMode.Opportunistic, CleartextFallbackAllowed = true, Why = "policy may: TLS when offered, no authentication required" };
            case PolicyLevel.Encrypt:
                return peer with { Mode = PeerMode.Encrypt, Why = "policy encrypt: TLS required, no authentication required" };
            case PolicyLevel.Verify:
                return peer with
                {
                    Mode = PeerMode.Pkix,
                    ReferenceIdentifiers = [new ReferenceIdentifier(host), .. policy.MatchNames.Select(ReferenceIdentifier.Parse)],
                    Why = mx == MxDnssec.Insecure
                        ? "policy verify: PKIX + MX host name; the MX RRset is insecure, so success is only trusted"
                        : "policy verify: PKIX + MX host name",
                };
            case PolicyLevel.Secure:
                return peer with
                {
                    Mode = PeerMode.Pkix,
                    ReferenceIdentifiers = [new ReferenceIdentifier(hop.Domain), new ReferenceIdentifier(hop.Domain, Subdomains: true),
                        .. policy.MatchNames.Select(ReferenceIdentifier.Parse)],
                    Why = "policy secure: PKIX + the next-hop domain or its subdomains",
                };
            case PolicyLevel.Fingerprint:
                return peer with { Mode = PeerMode.Fingerprint, Why = "policy fingerprint: pinned digest required" };
        }

        // dane and dane-only: RFC 7672 §2.2.
        if (policy.Level == PolicyLevel.DaneOnly && mx == MxDnssec.Insecure)
            return peer with { Why = "policy dane-only: the MX RRset is not DNSSEC-secure" };
        var tlsa = TlsaLookup(hop.Port, host, address, answers, missing);
        if (tlsa is null) return null;
        var (status, baseDomain, records, note) = tlsa.Value;
        var usable = TlsaUsability.Usable(records);
        peer = peer with { TlsaStatus = status, TlsaBaseDomain = baseDomain, Tlsa = records, UsableTlsa = usable };
        var only = policy.Level == PolicyLevel.DaneOnly;
        switch (status)
        {
            case TlsaStatus.Bogus or TlsaStatus.Error:
                // Never "no TLSA" (RFC 7672 §2.1.1): a forged SERVFAIL must not strip DANE. Try the next MX or defer.
                return peer with { Sni = null, Why = $"TLSA lookup {status.ToWire()}: {note}; peer unusable for this attempt" };
            case TlsaStatus.Secure when usable.Count > 0:
                return peer with
                {
                    Mode = PeerMode.Dane,
                    Sni = baseDomain,
                    ReferenceIdentifiers = DaneReferenceIdentifiers(hop, mx, expandedNextHop, host, baseDomain!),
                    Why = $"{policy.Level.ToWire()}: {usable.Count} usable secure TLSA record(s) at {TlsaOwner(hop.Port, baseDomain!)}"
                        + (mx == MxDnssec.Insecure ? "; the MX RRset is insecure, so success is only trusted" : ""),
                };
            case TlsaStatus.Secure when only:
                return peer with { Sni = null, Why = "policy dane-only: secure TLSA records exist but none is usable" };
            case TlsaStatus.Secure:
                // RFC 7672 §2.2: the peer committed to TLS by publishing TLSA; unusable records do not undo that.
                return peer with { Mode = PeerMode.Encrypt, Sni = baseDomain, Why = "dane: secure TLSA records exist but none is usable: TLS required, unauthenticated" };
            default:
                if (only) return peer with { Sni = null, Why = $"policy dane-only: no usable TLSA ({status.ToWire()}{(note is null ? "" : ": " + note)})" };
                return peer with
                {
                    Mode = PeerMode.Opportunistic,
                    CleartextFallbackAllowed = true,
                    Why = $"dane: no secure TLSA ({status.ToWire()}{(note is null ? "" : ": " + note)}), behaves as may",
                };
        }
    }

    /// <summary>RFC 7672 §2.2.2 base domains: the CNAME-expanded host name first, then the original; with
    /// insecure address records only a secure CNAME's original name (and otherwise nothing is queried).</summary>
    private static (TlsaStatus, string?, IReadOnlyList<TlsaAssociation>, string?)? TlsaLookup(int port, string host, HostAddresses address,
        DnsAnswers answers, List<DnsLookup> missing)
    {
        var chain = address.Chain;
        List<string> candidates = [];
        if (address.Status == AddressDnssec.Secure)
        {
            if (chain is { IsAlias: true, AllLinksSecure: true }) candidates.Add(NextHop.Normalize(chain.ExpandedName));
            candidates.Add(host);
        }
        else if (chain is { IsAlias: true } && chain.Links[0].Secure)
        {
            candidates.Add(host);
        }
        else
        {
            return (TlsaStatus.NotQueried, null, [], "address records are not DNSSEC-secure, TLSA not queried");
        }

        foreach (var candidate in candidates.Distinct())
        {
            var owner = TlsaOwner(port, candidate);
            var result = answers.Get(owner, DnsType.TLSA);
            if (result is null)
            {
                missing.Add(new DnsLookup(owner, DnsType.TLSA));
                return null;
            }
            switch (result)
            {
                case DnsResult.Secure secure when secure.RecordsOf<TlsaRecord>().Count > 0:
                    // A CNAME at _25._tcp does not move the base domain (RFC 7672 §2.2.3).
                    return (TlsaStatus.Secure, candidate, secure.RecordsOf<TlsaRecord>().Select(TlsaAssociation.From).ToArray(), null);
                case DnsResult.Secure:
                case DnsResult.NoData { IsSecure: true }:
                case DnsResult.NxDomain { IsSecure: true }:
                    continue;
                case DnsResult.Bogus bogus:
                    return (TlsaStatus.Bogus, candidate, [], bogus.ToString());
                case DnsResult.Error error:
                    return (TlsaStatus.Error, candidate, [], $"{error.Kind}: {error.Reason}");
                default:
                    return (TlsaStatus.Insecure, null, [], $"{owner} is not DNSSEC-secure");
            }
        }
        return (TlsaStatus.SecureEmpty, null, [], null);
    }

    /// <summary>RFC 7672 §3.2.2: the TLSA base domain; with a secure MX RRset also the next-hop domain and its
    /// CNAME expansion; for a route, the host name as configured.</summary>
    private static IReadOnlyList<ReferenceIdentifier> DaneReferenceIdentifiers(NextHop hop, MxDnssec mx, string? expandedNextHop, string host, string baseDomain)
    {
        var names = new List<string> { baseDomain };
        if (mx == MxDnssec.Secure)
        {
            names.Add(hop.Domain);
            if (expandedNextHop is not null) names.Add(expandedNextHop);
        }
        else if (mx == MxDnssec.Route)
        {
            names.Add(host);
        }
        return names.Distinct().Select(n => new ReferenceIdentifier(n)).ToArray();
    }

    public static string TlsaOwner(int port, string baseDomain) =>
        $"_{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}._tcp.{baseDomain}";

    private static PeerPlan LiteralPeer(NextHop hop, ResolvedPolicy policy, IPAddress address)
    {
        var peer = new PeerPlan(address.ToString(), 0, [address], policy.Level, PeerMode.Skip, MxDnssec.Route, AddressDnssec.Literal,
            TlsaStatus.NotQueried, null, [], [], null, [], policy.Fingerprints, false, "");
        return policy.Level switch
        {
            PolicyLevel.None => peer with { Mode = PeerMode.Cleartext, CleartextFallbackAllowed = true, Why = "policy none: no STARTTLS" },
            PolicyLevel.May or PolicyLevel.Dane => peer with
            {
                Mode = PeerMode.Opportunistic, CleartextFallbackAllowed = true,
                Why = policy.Level == PolicyLevel.Dane ? "dane: a literal address has no TLSA base domain, behaves as may" : "policy may",
            },
            PolicyLevel.Encrypt => peer with { Mode = PeerMode.Encrypt, Why = "policy encrypt" },
            PolicyLevel.Fingerprint => peer with { Mode = PeerMode.Fingerprint, Why = "policy fingerprint: pinned digest required" },
            PolicyLevel.Secure or PolicyLevel.Verify when policy.MatchNames.Count > 0 => peer with
            {
                Mode = PeerMode.Pkix, ReferenceIdentifiers = policy.MatchNames.Select(ReferenceIdentifier.Parse).ToArray(),
                Why = $"policy {policy.Level.ToWire()}: PKIX + configured match names",
            },
            _ => peer with { Why = $"policy {policy.Level.ToWire()} cannot be met by a literal address route without match names" },
        };
    }

    private static PlanStep Need(DnsLookup lookup) => new(null, [lookup]);

    private static PlanStep Done(NextHop hop, ResolvedPolicy policy, MxDnssec mx, IReadOnlyList<PeerPlan> peers)
    {
        var failure = peers.All(p => p.Mode == PeerMode.Skip)
            ? new PlanFailure(PlanFailureKind.NoUsablePeer, "no usable peer: " + string.Join("; ", peers.Select(p => $"{p.Host}: {p.Why}")),
                peers.Select(SkipResultType).FirstOrDefault(t => t is not null))
            : null;
        return new PlanStep(new DeliveryPlan(hop, policy, mx, peers, failure), []);
    }

    private static PlanStep Failed(NextHop hop, ResolvedPolicy policy, MxDnssec mx, PlanFailureKind kind, string reason, TlsRptResult? type = null) =>
        new(new DeliveryPlan(hop, policy, mx, [], new PlanFailure(kind, reason, type)), []);

    /// <summary>RFC 8460 §4.3.2 for a skipped peer: a failed DNSSEC lookup, DANE demanded but absent, or only unusable TLSA.</summary>
    private static TlsRptResult? SkipResultType(PeerPlan peer) => peer switch
    {
        { TlsaStatus: TlsaStatus.Bogus or TlsaStatus.Error } or { AddressStatus: AddressDnssec.Bogus } => TlsRptResult.DnssecInvalid,
        { Level: PolicyLevel.DaneOnly, TlsaStatus: TlsaStatus.Secure } => TlsRptResult.TlsaInvalid,
        { Level: PolicyLevel.DaneOnly } => TlsRptResult.DaneRequired,
        _ => null,
    };
}
