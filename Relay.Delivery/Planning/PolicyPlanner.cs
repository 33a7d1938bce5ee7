using Relay.Db;
using Relay.Delivery.Routing;
using Relay.Dns;
using Relay.Policy;
using Relay.Policy.Classification;
using Relay.Policy.Planning;
using PolicyPeerPlan = Relay.Policy.Planning.PeerPlan;

namespace Relay.Delivery.Planning;

/// <summary>
/// The adapter onto Relay.Policy: routes from <see cref="DeliveryOptions.Routes"/> become Policy's
/// <see cref="NextHop"/> routes, the destination_policies table its <see cref="PolicyTable"/>, and each
/// planned peer × address one <see cref="PeerPlan"/> whose judge is Policy's <see cref="PeerAuthenticator"/>
/// followed by <see cref="OutcomeClassifier"/>: the transport words recorded are Policy's, never ours.
/// Delivery adds only what the issue gives it: random order among equal MX preferences and the cap
/// of <see cref="DeliveryOptions.MaxAddressesPerAttempt"/> addresses.
/// </summary>
public sealed class PolicyPlanner(IDnsResolver? dns, RelayDatabase? database, DeliveryOptions options) : IDeliveryPlanner
{
    private readonly PeerAuthenticator authenticator = new();

    public async Task<DeliveryPlan> PlanAsync(string nextHop, CancellationToken cancellationToken)
    {
        var defaultLevel = PolicyLevelWire.TryParse(options.DefaultPolicy, out var parsed) ? parsed : PolicyLevel.Dane;
        NextHop hop;
        try
        {
            hop = options.Routes.TryGetValue(nextHop, out var route)
                ? NextHop.ForRoute(nextHop, route, options.Port)
                : NextHop.ForDomain(nextHop, options.Port);
        }
        catch (FormatException e)
        {
            return new DeliveryPlan(nextHop, defaultLevel.ToWire(), [], new HopFailure(false, "4.3.5", e.Message, "route"));
        }

        var (policies, unreadable) = await PoliciesAsync(cancellationToken).ConfigureAwait(false);
        if (unreadable is not null)
            // An explicit policy we cannot read might be the one that forbids cleartext: never guess, defer.
            return new DeliveryPlan(nextHop, defaultLevel.ToWire(), [], new HopFailure(false, "4.7.5", unreadable, MxDnssec: null));
        var table = new PolicyTable(policies, defaultLevel);
        var service = new DeliveryPlanService(dns ?? NoResolver.Instance, table);
        var plan = await service.PlanAsync(hop, cancellationToken).ConfigureAwait(false);
        var level = plan.Policy.Level.ToWire();
        if (plan.Failure is { } failure)
            return new DeliveryPlan(nextHop, level, [], new HopFailure(failure.Permanent, StatusOf(failure), failure.Reason, plan.Mx.ToWire()));

        var peers = new List<PeerPlan>();
        foreach (var group in plan.UsablePeers.GroupBy(p => p.Preference).OrderBy(g => g.Key))
            foreach (var peer in group.OrderBy(_ => Random.Shared.Next()))
                foreach (var address in peer.Addresses)
                    if (peers.Count < options.MaxAddressesPerAttempt)
                        peers.Add(Adapt(peer, address, hop.Port));
        return new DeliveryPlan(nextHop, level, peers, null);
    }

    private PeerPlan Adapt(PolicyPeerPlan peer, System.Net.IPAddress address, int port)
    {
        var mode = peer.Mode switch
        {
            PeerMode.Cleartext => TlsMode.Never,
            PeerMode.Opportunistic when peer.CleartextFallbackAllowed => TlsMode.Opportunistic,
            _ => TlsMode.Required,
        };
        var candidate = new PeerCandidate(peer.Host, address, port, peer.Mx.ToWire(), peer.AddressStatus.ToWire());
        return new PeerPlan(candidate, peer.Level.ToWire(), mode, peer.Sni, new PolicyJudge(authenticator, peer),
            peer.TlsaStatus.ToWire(), peer.Tlsa.Select(t => t.ToString()).ToList())
        {
            RequiresAuthentication = peer.RequiresAuthentication,
            JudgeIdentity = JudgeIdentity(peer),
        };
    }

    /// <summary>What PolicyJudge reads from Policy's plan (all but the operator text, preference and address list).</summary>
    private static string JudgeIdentity(PolicyPeerPlan peer) => string.Join('\n',
        peer.Host, peer.Level, peer.Mode, peer.Mx, peer.AddressStatus, peer.TlsaStatus, peer.TlsaBaseDomain, peer.Sni,
        peer.CleartextFallbackAllowed, string.Join(' ', peer.Tlsa), string.Join(' ', peer.UsableTlsa),
        string.Join(' ', peer.ReferenceIdentifiers.Select(r => (r.Subdomains ? "." : "") + r.Name)), string.Join(' ', peer.Fingerprints));

    private async Task<(IReadOnlyList<DestinationPolicy> Policies, string? Unreadable)> PoliciesAsync(CancellationToken cancellationToken)
    {
        if (database is null) return ([], null);
        var rows = await database.Policies.ListAsync(cancellationToken).ConfigureAwait(false);
        var policies = new List<DestinationPolicy>(rows.Count);
        foreach (var row in rows)
        {
            // `relay policy` and the web UI validate on write, so this only meets rows edited by hand in SQL.
            try { policies.Add(DestinationPolicy.FromWire(row.Destination, row.Level, row.Fingerprints, row.MatchNames, row.Note)); }
            catch (FormatException e) { return ([], $"destination policy '{row.Destination}' is unreadable ({e.Message}); fix or delete it"); }
        }
        return (policies, null);
    }

    private static string StatusOf(PlanFailure failure) =>
        !failure.Permanent ? (failure.Reason.StartsWith("no usable peer", StringComparison.Ordinal) ? "4.7.5" : "4.4.3")
        : failure.Reason.Contains("null MX", StringComparison.Ordinal) ? "5.1.10"
        : "5.1.2";

    /// <summary>Runs Policy's authenticator in the handshake and lets its classifier name the transport.</summary>
    private sealed class PolicyJudge(PeerAuthenticator authenticator, PolicyPeerPlan peer) : ICertificateJudge
    {
        public CertificateVerdict Judge(Smtp.Client.TlsPeerEvidence evidence)
        {
            var (authentication, accept) = authenticator.Authenticate(peer, evidence.Presented);
            var outcome = OutcomeClassifier.Classify(peer, new AttemptReport(Smtp.Client.ClientStage.Tls, StartTlsOffered: true,
                TlsEstablished: true, [], TlsVersion: "unknown", Authentication: authentication));
            return accept
                ? new CertificateVerdict(true, outcome.Transport.ToWire(), outcome.How.ToWire(), outcome.Reason)
                : CertificateVerdict.Reject(authentication.Detail);
        }
    }

    /// <summary>No resolver configured: every lookup is an error, so MX destinations defer and routes still work.</summary>
    private sealed class NoResolver : IDnsResolver
    {
        public static NoResolver Instance { get; } = new();

        public Task<DnsResult> QueryAsync(string name, DnsType type, CancellationToken cancellationToken = default) =>
            Task.FromResult<DnsResult>(new DnsResult.Error(name, type, DnsErrorKind.BadQuery, "no DNS resolver configured (Relay:Dns:Servers)"));
    }
}
