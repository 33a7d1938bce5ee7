namespace Relay.Policy.Planning;

/// <summary>Why no peer of a next hop can be tried. The kind decides the status code and whether it can change.</summary>
public enum PlanFailureKind
{
    /// <summary>NXDOMAIN for the domain: cannot change, bounce (5.1.2).</summary>
    NoSuchDomain,
    /// <summary>Null MX (RFC 7505): the domain accepts no mail, bounce (5.1.10).</summary>
    NullMx,
    /// <summary>The MX lookup failed, was bogus or gave nothing usable (4.4.3).</summary>
    MxLookupFailed,
    /// <summary>Every peer was skipped by policy or DNS (TLSA bogus, dane-only without DANE, no address) (4.7.5).</summary>
    NoUsablePeer,
    /// <summary>An explicit policy row cannot be read: it might forbid cleartext, so never guess (4.7.5).</summary>
    PolicyUnreadable,
    /// <summary>The planner needed more DNS rounds than allowed (4.4.3).</summary>
    TooManyLookups,
}

/// <param name="ResultType">The RFC 8460 result type when the failure is a TLS policy failure (TLSA bogus, DANE required).</param>
public sealed record PlanFailure(PlanFailureKind Kind, string Reason, TlsRptResult? ResultType = null)
{
    /// <summary>Only answers that cannot change bounce (NXDOMAIN, null MX); everything else defers.</summary>
    public bool Permanent => Kind is PlanFailureKind.NoSuchDomain or PlanFailureKind.NullMx;

    /// <summary>The RFC 3463 status of the recipients' DSN.</summary>
    public string Status => Kind switch
    {
        PlanFailureKind.NoSuchDomain => "5.1.2",
        PlanFailureKind.NullMx => "5.1.10",
        PlanFailureKind.NoUsablePeer or PlanFailureKind.PolicyUnreadable => "4.7.5",
        _ => "4.4.3",
    };
}

/// <summary>
/// The plan for one next hop: peers in MX preference order (RFC 7672 §2.2.1: security never reorders
/// them). Peers with <see cref="PeerMode.Skip"/> stay in the list so `relay check` can show why.
/// </summary>
/// <param name="Mx">The MX RRset's DNSSEC status (or Route); null when planning stopped before the MX lookup.</param>
public sealed record DeliveryPlan(
    NextHop NextHop,
    ResolvedPolicy Policy,
    MxDnssec? Mx,
    IReadOnlyList<PeerPlan> Peers,
    PlanFailure? Failure)
{
    public IEnumerable<PeerPlan> UsablePeers => Peers.Where(p => p.Mode != PeerMode.Skip);

    /// <summary>The MTA-STS facts the plan was made with (RFC 8461); null when MTA-STS was not consulted.</summary>
    public MtaSts.StsInput? Sts { get; init; }

    /// <summary>A plan that failed before any DNS answer was needed (an unreadable policy).</summary>
    public static DeliveryPlan Failed(NextHop hop, ResolvedPolicy policy, PlanFailure failure) => new(hop, policy, null, [], failure);
}

/// <summary>Either the finished plan, or the DNS questions the planner still needs answered.</summary>
public sealed record PlanStep(DeliveryPlan? Plan, IReadOnlyList<DnsLookup> Missing)
{
    public bool IsComplete => Plan is not null;
}
