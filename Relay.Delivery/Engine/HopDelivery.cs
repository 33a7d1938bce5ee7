using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Delivery.Bounces;
using Relay.Delivery.Ipsec;
using Relay.Delivery.Planning;
using Relay.Delivery.Recording;
using Relay.Delivery.Sessions;
using Relay.Policy.Classification;
using Relay.Smtp.Client;

namespace Relay.Delivery.Engine;

/// <summary>
/// Delivers one claimed batch (one next hop): plan, then peers in plan order (at most
/// <see cref="DeliveryOptions.MaxAddressesPerAttempt"/>), several messages per session, each transaction's
/// record handed to the database the moment it ends and committed while the session carries the next message
/// (<see cref="RecordWindow"/>), so a crash duplicates at most the few transactions whose records were in flight. A peer that
/// fails before MAIL (refused, 5xx greeting, TLS demanded but impossible) passes the messages on to
/// the next peer; when none is left they are deferred with every peer's reason. Sessions collect facts; every
/// outcome (transport or nothing sent, each recipient's fate) is Relay.Policy's <see cref="OutcomeClassifier"/>'s.
/// REQUIRETLS (RFC 8689 §4.2.1, §5): a session that is not <c>verified</c> or whose peer did not announce
/// REQUIRETLS after STARTTLS gets QUIT and no MAIL, and the next peer is tried. When every peer tried was
/// reached and refused only for that reason, the message bounces with 5.7.30 and a DSN; any other failure
/// (unreachable, 4xx/5xx greeting, TLS that could not be established, a STARTTLS that is missing, which an
/// attacker can strip) defers as for every message, because only a completed TLS session gives evidence that
/// retrying cannot change.
/// </summary>
/// The network layer (<see cref="INetworkLayer"/>, the IPsec sidecar) is asked before each new connection; its facts travel
/// in the attempt report, and Relay.Policy decides whether the class lets delivery connect at all.
public sealed class HopDelivery(RelayDatabase database, HopPlanner planner, DeliveryOptions options, ILogger logger, INetworkLayer? network = null)
{
    private readonly INetworkLayer networkLayer = network ?? DisabledNetworkLayer.Instance;
    private readonly RetrySchedule retry = new(options);
    private readonly BounceSender bounces = new(database, options);
    private readonly SessionPool sessions = new(options, logger);
    private readonly PeerAuthenticator authenticator = new(options.TrustAnchors);

    /// <summary>Closes the sessions parked for reuse (QUIT); call when no batch runs any more.</summary>
    public Task CloseIdleSessionsAsync() => sessions.CloseIdleAsync();

    private sealed record Pending(QueuedMessage Message, IReadOnlyList<ClaimedRecipient> Recipients)
    {
        public IEnumerable<string> Addresses => Recipients.Select(r => r.Address);
    }

    /// <summary>Delivers one claimed batch; true when it left nothing due again (<see cref="LeaseKeeper.Settled"/>).</summary>
    public async Task<bool> DeliverAsync(NextHopBatch batch, CancellationToken cancellationToken)
    {
        await using var keeper = new LeaseKeeper(database, options, logger, batch, cancellationToken);
        await DeliverAsync(batch, keeper, cancellationToken).ConfigureAwait(false);
        return keeper.Settled;
    }

    private async Task DeliverAsync(NextHopBatch batch, LeaseKeeper keeper, CancellationToken cancellationToken)
    {
        // Sessions run on the keeper's token (cancelled if a lease is lost); outcomes are recorded on the
        // caller's, because what a peer already accepted must be written down even then.
        // Bounces the operator asked for (web UI): the DSN is sent and no peer is tried.
        foreach (var requested in batch.Recipients.Where(r => r.BounceRequested).GroupBy(r => r.QueueId))
        {
            keeper.Done(requested.Select(r => r.RecipientId), final: true);
            await OperatorBounce.BounceAsync(database, options.Hostname, requested.Key, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("{QueueId}: bounced at the operator's request", requested.Key);
        }
        // The batch's messages in one round trip; a message deleted meanwhile is simply not delivered.
        var groups = batch.Recipients.Where(r => !r.BounceRequested).GroupBy(r => r.MessageId).ToDictionary(g => g.Key, g => g.ToList());
        if (groups.Count == 0) return;
        var started = DateTimeOffset.UtcNow;
        // Loading and planning at once (each its own round trips on its own connection): the plan does not depend on the
        // messages, and the time from a claim to the first MAIL is on every message's accept-to-delivered path (bench/README.md).
        var loading = database.Queue.LoadMessagesAsync(groups.Keys.ToList(), cancellationToken);
        var planning = planner.PlanAsync(batch.NextHop, keeper.Token);
        await Task.WhenAll(loading, planning).ConfigureAwait(false);
        var pending = loading.Result.Select(m => new Pending(m, groups[m.Id])).ToList();
        if (pending.Count == 0) return;
        var hop = planning.Result;
        if (hop.Plan.Failure is { } failure)
        {
            foreach (var p in pending)
            {
                var outcome = HopOutcomes.ForPlanFailure(failure, p.Addresses);
                // No peer, so no class was looked up; with IPsec off that is itself the network layer's standing decision.
                var row = AttemptRows.ForHop(hop, started, ClientStage.Dns, $"{failure.Status} {failure.Reason}", outcome,
                    networkLayer is DisabledNetworkLayer ? NetworkFacts.Disabled : null);
                await FinishAsync(keeper, p, row, outcome, remoteMta: null, cancellationToken).ConfigureAwait(false);
            }
            return;
        }

        // REQUIRETLS messages (RFC 8689) travel in their own sessions, where no cleartext fallback exists.
        foreach (var group in pending.GroupBy(p => p.Message.RequireTls))
            await DeliverToPeersPipelinedAsync(keeper, hop, group.ToList(), group.Key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Delivers over the peers with the records pipelined: after a peer's 250 the session carries the next message while
    /// the last one's record commits (sharing its commit with other sessions'), at most <see cref="RecordWindow.Limit"/>
    /// records behind. A recipient is still 'delivered' only once its own record has committed, after the peer's 250.
    /// </summary>
    private async Task DeliverToPeersPipelinedAsync(LeaseKeeper keeper, HopPlan hop, List<Pending> pending, bool requireTls,
        CancellationToken cancellationToken)
    {
        var records = new RecordWindow();
        try
        {
            await DeliverToPeersAsync(keeper, hop, pending, requireTls, records, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Nothing of this batch is left unrecorded when it returns (or fails): the leases end with these records.
            await records.DrainAsync().ConfigureAwait(false);
        }
    }

    private async Task DeliverToPeersAsync(LeaseKeeper keeper, HopPlan hop, List<Pending> pending, bool requireTls, RecordWindow records,
        CancellationToken cancellationToken)
    {
        var sessionToken = keeper.Token;
        var failures = new List<string>();
        // REQUIRETLS bookkeeping: peers reached over TLS but refused by RequireTlsGate, peers that failed any other
        // way, and peers that carried mail. Only refusals and nothing else make the §5 non-delivery report due.
        int requireTlsRefusals = 0, otherFailures = 0, acceptedPeers = 0;
        string? lastPeer = null;
        AttemptReport? lastFailure = null;
        var lastStarted = DateTimeOffset.UtcNow;
        // A parked session the peer closed unseen (after our check, before its reply) gives its message to a fresh
        // session once per batch; after that every reused session is probed with RSET again.
        var unprobedReuse = true;
        for (var t = 0; t < hop.Targets.Count; t++)
        {
            var target = hop.Targets[t];
            var again = false;
            if (pending.Count == 0) break;
            if (sessionToken.IsCancellationRequested) break;
            var key = SessionKey.For(hop.NextHop, target, requireTls);
            // The per-destination limit. Waiting is covered: the keeper renews this batch's leases while DeliverAsync runs.
            SessionPool.Slot slot;
            try { slot = await sessions.AcquireAsync(key, sessionToken).ConfigureAwait(false); }
            catch (OperationCanceledException) when (sessionToken.IsCancellationRequested) { break; }
            EstablishedSession? session = null;
            var clean = false;
            try
            {
                var started = DateTimeOffset.UtcNow;
                // Asked for reused sessions too (cached, so cheap): a class changed to block or private since the session
                // was parked must stop it from carrying more mail.
                var facts = await networkLayer.PrepareAsync(target.Name, target.Address, target.Port, sessionToken).ConfigureAwait(false);
                session = slot.Reused;
                // A parked session from which nothing has come (no 421, no FIN, no reset) carries mail without a round
                // trip first: it was left clean (after a final reply, or RSET). Anything else is probed with RSET.
                var unprobed = session is not null && unprobedReuse && session.Client.PeerSilent;
                if (session is not null && (!OutcomeClassifier.NetworkAllows(facts).Allowed
                                            || (!unprobed && !await StillUsableAsync(session, sessionToken).ConfigureAwait(false))))
                {
                    // Gone while parked (peer timeout, 421) or no longer allowed: not an attempt; connect afresh (or not) on this slot.
                    await session.DisposeAsync().ConfigureAwait(false);
                    session = null;
                    unprobed = false;
                }
                if (session is null)
                {
                    var (opened, report) = await SessionOpener.OpenAsync(target, requireTls, authenticator, options, sessionToken, facts).ConfigureAwait(false);
                    if (opened is null)
                    {
                        otherFailures++;
                        (lastPeer, lastFailure, lastStarted) = (target.Name, report, started);
                        failures.Add($"{target.Name}[{target.Address}]: {report.Stage.ToWire()}: {report.Error}");
                        await PassOnAsync(hop, target, started, report, pending, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    session = opened;
                    DeliveryMetrics.SessionOpened();
                }
                else
                {
                    logger.LogDebug("{NextHop}: reusing the session to {Peer}[{Address}]", hop.NextHop, target.Name, target.Address);
                }

                if (requireTls && RequireTlsGate.Refusal(session) is { } refusal)
                {
                    // RFC 8689 §4.2.1: QUIT without MAIL and try the next peer. The session is not parked: its key
                    // carries the REQUIRETLS demand, which it will never meet (ordinary mail has sessions of its own).
                    requireTlsRefusals++;
                    var report = session.Report with { Error = refusal };
                    (lastPeer, lastFailure, lastStarted) = (target.Name, report, started);
                    failures.Add($"{target.Name}[{target.Address}]: {refusal}");
                    await PassOnAsync(hop, session.Target, started, report, pending, cancellationToken).ConfigureAwait(false);
                    try { await session.Client.QuitAsync(CancellationToken.None).ConfigureAwait(false); }
                    catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
                    await session.DisposeAsync().ConfigureAwait(false);
                    session = null;
                    continue;
                }

                if (requireTls) acceptedPeers++;
                clean = true;
                while (pending.Count > 0 && clean && !sessionToken.IsCancellationRequested)
                {
                    var p = pending[0];
                    pending.RemoveAt(0);
                    var transactionStarted = DateTimeOffset.UtcNow;
                    clean = false;
                    var result = await MessageTransaction.RunAsync(session, p.Message, p.Recipients, sessionToken).ConfigureAwait(false);
                    clean = result.SessionUsable;
                    if (unprobed && result.ClosedBeforeMail && !sessionToken.IsCancellationRequested)
                    {
                        // Gone while parked after all (it closed between our check and MAIL): as a failed RSET would have
                        // been, not an attempt; the message goes first on a fresh session to this peer.
                        logger.LogDebug("{NextHop}: the reused session to {Peer}[{Address}] was closed before MAIL; connecting again",
                            hop.NextHop, target.Name, target.Address);
                        pending.Insert(0, p);
                        (clean, again, unprobedReuse) = (false, true, false);
                        break;
                    }
                    unprobed = false; // only a session's first transaction after parking can meet a peer that left unseen
                    // The session's own target: a reused session records what it was opened and judged with, never more.
                    var outcome = OutcomeClassifier.Classify(session.Target.Plan, result.Report);
                    var row = AttemptRows.ForPeer(hop, session.Target, transactionStarted, result.Report, outcome, result.Reply);
                    await records.AddAsync(FinishAsync(keeper, p, row, outcome, session.Target.Name, cancellationToken,
                        peerTakesDsn: session.Client.Capabilities.Dsn)).ConfigureAwait(false);
                }
            }
            finally
            {
                // Usable and between transactions: parked for the next batch to this hop (closed with QUIT after SessionIdle).
                await sessions.ReleaseAsync(slot, key, session, clean).ConfigureAwait(false);
            }
            if (again) t--;
        }

        if (pending.Count == 0) return;
        // A lost lease: these recipients belong to whoever holds them now; record nothing in their name.
        if (sessionToken.IsCancellationRequested && !cancellationToken.IsCancellationRequested) return;
        var summary = failures.Count == 0 ? "no peer could be tried" : string.Join("; ", failures);
        var bounceRequireTls = requireTls && requireTlsRefusals > 0 && otherFailures == 0 && acceptedPeers == 0 && !sessionToken.IsCancellationRequested;
        foreach (var p in pending)
        {
            // Each peer's own attempt is already recorded; this row only carries the hop's verdict (no session, nothing sent).
            var outcome = bounceRequireTls
                ? HopOutcomes.RequireTlsUnavailable(summary, p.Addresses)
                : HopOutcomes.AllPeersFailed(summary, failures.Count > 0, lastFailure?.ErrorReply, p.Addresses);
            var row = AttemptRows.ForHop(hop, lastStarted, lastFailure?.Stage ?? ClientStage.Connect, outcome.Recipients[0].Reason, outcome,
                lastFailure?.Network);
            await FinishAsync(keeper, p, row, outcome, lastPeer, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records an attempt with one peer that ended before any mail was sent, linked to the recipients (so `queue show`
    /// lists it), which stay leased and move on to the next peer.
    /// </summary>
    private async Task PassOnAsync(HopPlan hop, PeerTarget target, DateTimeOffset started, AttemptReport report, List<Pending> pending,
        CancellationToken cancellationToken)
    {
        var outcome = OutcomeClassifier.Classify(target.Plan, report);
        var row = AttemptRows.ForPeer(hop, target, started, report, outcome, report.ErrorReply?.ToString() ?? report.Error);
        await database.Attempts.RecordPassedOnAsync(row, pending.SelectMany(p => p.Recipients).Select(r => r.RecipientId).ToList(),
            report.Error, cancellationToken).ConfigureAwait(false);
        AttemptLog.Write(logger, string.Join(",", pending.Select(p => p.Message.QueueId)), row,
            pending.SelectMany(p => p.Addresses).Select(a => (a, "passed on to the next peer", (string?)null)));
    }

    /// <summary>RSET before a parked session carries mail again: proves the peer is still there and starts from a clean state.</summary>
    private async Task<bool> StillUsableAsync(EstablishedSession session, CancellationToken cancellationToken)
    {
        var timeout = options.Timeouts.Command < TimeSpan.FromSeconds(30) ? options.Timeouts.Command : TimeSpan.FromSeconds(30);
        try
        {
            var reply = await session.Client.CommandAsync(ClientStage.Mail, "RSET", timeout, cancellationToken).ConfigureAwait(false);
            return reply.Code == 250;
        }
        catch (SmtpClientException)
        {
            return false;
        }
    }

    /// <summary>Applies the retry schedule to the classifier's fates, sends DSNs, records the attempt with every recipient's
    /// outcome in one transaction, and logs it once.</summary>
    /// <param name="peerTakesDsn">The peer announced DSN and got our NOTIFY: success notices are its job now (RFC 3461 §5.2.2).</param>
    private async Task FinishAsync(LeaseKeeper keeper, Pending pending, AttemptRecord attempt, AttemptOutcome outcome, string? remoteMta,
        CancellationToken cancellationToken, bool peerTakesDsn = false)
    {
        var now = DateTimeOffset.UtcNow;
        var outcomes = new List<RecipientOutcome>(pending.Recipients.Count);
        var reports = new List<(ClaimedRecipient, DsnRecipient)>();
        for (var i = 0; i < pending.Recipients.Count; i++)
        {
            var r = pending.Recipients[i];
            var d = outcome.Recipients[i];
            switch (d.Fate)
            {
                case RecipientFate.Delivered:
                    outcomes.Add(new RecipientOutcome(r.RecipientId, RecipientResult.Delivered, d.Reason));
                    // A peer without DSN ends the NOTIFY=SUCCESS chain here: we report "relayed" (RFC 3461 §5.2.2.3).
                    if (!peerTakesDsn)
                        reports.Add((r, new DsnRecipient(r.Address, r.DsnOrcpt, "relayed", d.Status, remoteMta, d.Reason)));
                    break;
                case RecipientFate.Bounced:
                    outcomes.Add(new RecipientOutcome(r.RecipientId, RecipientResult.Bounced, d.Reason));
                    reports.Add((r, new DsnRecipient(r.Address, r.DsnOrcpt, "failed", d.Status, remoteMta, d.Reason)));
                    break;
                default:
                    if (retry.Expired(r.ReceivedAt, now))
                    {
                        var text = $"gave up after {options.Lifetime.TotalHours:0.#} h in the queue; last error: {d.Reason}";
                        outcomes.Add(new RecipientOutcome(r.RecipientId, RecipientResult.Bounced, text));
                        reports.Add((r, new DsnRecipient(r.Address, r.DsnOrcpt, "failed", "4.4.7", remoteMta, text)));
                    }
                    else
                    {
                        var next = retry.NextAttempt(r.Attempts, r.ReceivedAt, now);
                        outcomes.Add(new RecipientOutcome(r.RecipientId, RecipientResult.Deferred, d.Reason, next));
                        if (retry.DelayWarningDue(r.Attempts, r.ReceivedAt, now))
                            reports.Add((r, new DsnRecipient(r.Address, r.DsnOrcpt, "delayed", d.Status.StartsWith('4') ? d.Status : "4.4.7",
                                remoteMta, $"{d.Reason} (will retry until {(r.ReceivedAt + options.Lifetime).UtcDateTime:u})",
                                WillRetryUntil: r.ReceivedAt + options.Lifetime)));
                    }
                    break;
            }
        }
        // The DSN is enqueued before the recipients become final: a crash in between sends it twice, never zero times.
        if (reports.Count > 0)
        {
            try
            {
                await bounces.SendAsync(pending.Message, reports, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException)
            {
                // Recording what the peer already has matters more: an unrecorded delivery is a duplicate later.
                logger.LogError(e, "{QueueId}: could not enqueue the DSN", pending.Message.QueueId);
            }
        }
        keeper.Done(outcomes.Select(o => o.RecipientId), final: outcomes.All(o => o.Result != RecipientResult.Deferred));
        await database.Attempts.RecordAsync(attempt, outcomes, cancellationToken).ConfigureAwait(false);
        foreach (var o in outcomes) DeliveryMetrics.Recipient(RecipientResults.ToWire(o.Result));
        AttemptLog.Write(logger, pending.Message.QueueId, attempt,
            pending.Recipients.Zip(outcomes, (r, o) => (r.Address, RecipientResults.ToWire(o.Result), o.Reply)));
    }
}
