using System.CommandLine;
using System.Text.Json;
using Relay.Dns;
using Relay.Policy;
using Relay.Delivery.Planning;
using Relay.Policy.Classification;
using Relay.Policy.MtaSts;
using Relay.Policy.Planning;

namespace Relay.Server.Cli;

/// <summary>
/// `relay check DOMAIN [--no-connect] [--json]`: what delivery would do for DOMAIN right now — per MX host its
/// address, the DNSSEC status of MX, address and TLSA lookups, the TLSA records, the policy level in force and
/// the transport outcome to expect, with why. Unless --no-connect, it then opens a session to each peer
/// address exactly as delivery would (EHLO, STARTTLS, the same certificate judge), reports what the session
/// really achieved and QUITs without sending mail. It plans with delivery's own HopPlanner, so peer history (per address:
/// STARTTLS and TLS sightings, downgrade protection and until when, the last flag, key changes) is shown as it shapes delivery. Exit 1 when no peer can be tried or none could be reached.
/// </summary>
internal static class CheckCommand
{
    public static Command Build()
    {
        var domain = new Argument<string>("DOMAIN") { Description = "recipient domain (or a hosted domain with a route)" };
        var noConnect = new Option<bool>("--no-connect") { Description = "plan from DNS and policy only; do not contact the peers" };
        var json = new Option<bool>("--json") { Description = "print one JSON document" };
        var command = new Command("check", "show the delivery plan and expected transport security for a domain") { domain, noConnect, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(domain)!.Trim();
            if (!DnsName.TryNormalize(name, out _))
                throw new UsageException($"DOMAIN '{name}' is not a domain name");
            var config = CliContext.Config();
            var options = Configuration.DeliveryOptionsReader.Read(config);
            var resolver = new DnsResolver(config.DnsServers.Select(e => new DnsServer(e, Trusted: true)).ToList());
            await using var db = config.Database is null ? null : await DatabaseConnector.OpenCurrentAsync(config.Database, cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            // The planner delivery uses: routes, the policy table, MTA-STS with its cache, and peer history per address.
            var hop = await new HopPlanner(resolver, db, options).PlanAsync(name.TrimEnd('.').ToLowerInvariant(), deadline.Token);
            var plan = hop.Plan;
            var history = await PeerHistoryCheck.ReadAsync(db, hop, options.History, deadline.Token);
            var probes = parse.GetValue(noConnect) || plan.Failure is not null
                ? null
                : await CheckProbe.RunAsync(hop, options, cancellationToken);
            Console.WriteLine(parse.GetValue(json) ? ToJson(plan, history, probes) : ToText(plan, history, probes));
            var usable = plan.Failure is null && plan.UsablePeers.Any();
            return usable && (probes is null || probes.Any(p => p.Error is null)) ? RelayCli.Ok : RelayCli.Negative;
        });
        return command;
    }

    private static object? StsJson(StsInput? sts) => sts is null ? null : new
    {
        policyId = sts.Id,
        mode = sts.Policy?.Mode.ToWire(),
        mx = sts.Policy?.Mx,
        expires = sts.Expires,
        source = sts.Source,
        fetchFailure = sts.FetchFailure is { } f ? new { resultType = f.ResultType.ToWire(), reason = f.Reason } : null,
    };

    private static string? StsText(StsInput? sts) => sts switch
    {
        null => null,
        { Policy: { } p } => $"  mta-sts: mode {p.Mode.ToWire()}, id {sts.Id}, mx [{string.Join(", ", p.Mx)}], expires {sts.Expires:u} ({sts.Source})"
            + (sts.FetchFailure is { } f ? $"; fetch failed: {f.ResultType.ToWire()}: {f.Reason}" : ""),
        _ => $"  mta-sts: no policy ({sts.Source})",
    };

    private static object PeerJson(PeerPlan peer)
    {
        var expected = OutcomeClassifier.Expected(peer);
        return new
        {
            name = peer.Host,
            preference = peer.Preference,
            addresses = peer.Addresses.Select(a => a.ToString()).ToArray(),
            mxDnssec = peer.Mx.ToWire(),
            addressDnssec = peer.AddressStatus.ToWire(),
            tlsaDnssec = peer.TlsaStatus.ToWire(),
            tlsaBase = peer.TlsaBaseDomain,
            tlsa = peer.Tlsa.Select(t => t.ToString()).ToArray(),
            usableTlsa = peer.UsableTlsa.Select(t => t.ToString()).ToArray(),
            level = peer.EffectiveLevel.ToWire(),
            sni = peer.Sni,
            cleartextFallback = peer.CleartextFallbackAllowed,
            expected = expected?.Transport.ToWire() ?? "skipped",
            why = expected?.Why is { } w ? $"{w}; {peer.Why}" : peer.Why,
        };
    }

    private static string ToJson(DeliveryPlan plan, IReadOnlyList<PeerHistoryCheck> history, IReadOnlyList<ProbeResult>? probes) => JsonSerializer.Serialize(new
    {
        domain = plan.NextHop.Domain,
        route = plan.NextHop.RouteText,
        policy = new { level = plan.Policy.Level.ToWire(), source = plan.Policy.Source },
        mxDnssec = plan.Mx?.ToWire(),
        mtaSts = StsJson(plan.Sts),
        failure = plan.Failure is { } f ? new { permanent = f.Permanent, reason = f.Reason, resultType = f.ResultType?.ToWire() } : null,
        peers = plan.Peers.Select(PeerJson).ToArray(),
        history = history.Select(h => h.ToJson()).ToArray(),
        observed = probes?.Select(p => new
        {
            name = p.Name, address = p.Address, port = p.Port, transport = p.Channel?.Transport.ToWire(), how = p.Channel?.How.ToWire(),
            reason = p.Channel?.Reason, resultType = p.Channel?.ResultType?.ToWire(),
            tls = p.Tls is { } tls ? new { version = tls.Version, cipher = tls.Cipher, spki = tls.PeerSpki } : null,
            error = p.Error,
        }).ToArray(),
    }, new JsonSerializerOptions { WriteIndented = true });

    private static string ToText(DeliveryPlan plan, IReadOnlyList<PeerHistoryCheck> history, IReadOnlyList<ProbeResult>? probes)
    {
        var lines = new List<string>
        {
            $"{plan.NextHop}: policy {plan.Policy.Level.ToWire()} ({plan.Policy.Source}), MX {plan.Mx?.ToWire() ?? "not looked up"}",
        };
        if (StsText(plan.Sts) is { } stsLine) lines.Add(stsLine);
        if (plan.Failure is { } failure)
            lines.Add($"  cannot deliver ({(failure.Permanent ? "permanent" : "temporary")}): {failure.Reason}");
        foreach (var peer in plan.Peers)
        {
            var expected = OutcomeClassifier.Expected(peer);
            lines.Add($"  {peer.Preference,3} {peer.Host} [{string.Join(", ", peer.Addresses)}] address {peer.AddressStatus.ToWire()}, " +
                      $"TLSA {peer.TlsaStatus.ToWire()}{(peer.Tlsa.Count > 0 ? $" ({string.Join("; ", peer.Tlsa)})" : "")}");
            lines.Add($"      level {peer.EffectiveLevel.ToWire()} → expect {expected?.Transport.ToWire() ?? "skipped"}: {expected?.Why ?? peer.Why}" +
                      (expected is null ? "" : $" ({peer.Why})"));
        }
        foreach (var peer in history) lines.AddRange(peer.ToText());
        foreach (var probe in probes ?? [])
            lines.Add(probe.Error is { } error
                ? $"  observed {probe.Name}[{probe.Address}]:{probe.Port}: not reached: {error}"
                : $"  observed {probe.Name}[{probe.Address}]:{probe.Port}: {probe.Channel!.Transport.ToWire()} ({probe.Channel.How.ToWire()}" +
                  (probe.Channel.Reason is null ? ")" : $"; {probe.Channel.Reason})") + (probe.Tls is { } tls ? $" {tls.Version} {tls.Cipher}" : ""));
        return string.Join('\n', lines);
    }
}
