using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Delivery.Bounces;
using Relay.Delivery.Planning;
using Relay.Delivery.Sessions;
using Relay.Smtp.Client;

namespace Relay.Delivery.Engine;

/// <summary>
/// Delivers one claimed batch (one next hop): plan, then peers in plan order (at most
/// <see cref="DeliveryOptions.MaxAddressesPerAttempt"/>), several messages per session, each transaction
/// recorded the moment it ends so a crash duplicates at most the transaction in flight. A peer that
/// fails before MAIL (refused, 5xx greeting, TLS demanded but impossible) passes the messages on to
/// the next peer; when none is left they are deferred with every peer's reason.
/// REQUIRETLS (RFC 8689 §4.2.1, §5): a session that is not <c>verified</c> or whose peer did not announce
/// REQUIRETLS after STARTTLS gets QUIT and no MAIL, and the next peer is tried. When every peer tried was
/// reached and refused only for that reason, the message bounces with 5.7.30 and a DSN; any other failure
/// (unreachable, 4xx/5xx greeting, TLS that could not be established, a STARTTLS that is missing, which an
/// attacker can strip) defers as for every message, because only a completed TLS session gives evidence that
/// retrying cannot change.
/// </summary>
public sealed class HopDelivery(RelayDatabase database, IDeliveryPlanner planner, DeliveryOptions options, ILogger logger)
{
    private readonly RetrySchedule retry = new(options);
    private readonly BounceSender bounces = new(database, options);
    private readonly SessionPool sessions = new(options, logger);

    /// <summary>Closes the sessions parked for reuse (QUIT); call when no batch runs any more.</summary>
    public Task CloseIdleSessionsAsync() => sessions.CloseIdleAsync();

    private sealed record Pending(QueuedMessage Message, IReadOnlyList<ClaimedRecipient> Recipients);

    public async Task DeliverAsync(NextHopBatch batch, CancellationToken cancellationToken)
    {
        // Sessions run on the keeper's token (cancelled if a lease is lost); outcomes are recorded on the
        // caller's, because what a peer already accepted must be written down even then.
        await using var keeper = new LeaseKeeper(database, options, logger, batch, cancellationToken);
        // Bounces the operator asked for (web UI): the DSN is sent and no peer is tried.
        foreach (var requested in batch.Recipients.Where(r => r.BounceRequested).GroupBy(r => r.QueueId))
        {
            keeper.Done(requested.Select(r => r.RecipientId));
            await OperatorBounce.BounceAsync(database, options.Hostname, requested.Key, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("{QueueId}: bounced at the operator's request", requested.Key);
        }
        var pending = new List<Pending>();
        foreach (var group in batch.Recipients.Where(r => !r.BounceRequested).GroupBy(r => r.MessageId))
        {
            var message = await database.Queue.LoadMessageAsync(group.Key, cancellationToken).ConfigureAwait(false);
            if (message is not null) pending.Add(new Pending(message, group.ToList())); // null: deleted meanwhile
        }
        if (pending.Count == 0) return;

        var started = DateTimeOffset.UtcNow;
        var plan = await planner.PlanAsync(batch.NextHop, keeper.Token).ConfigureAwait(false);
        if (plan.Failure is { } failure)
        {
            var reply = $"{failure.Status} {failure.Reason}";
            foreach (var p in pending)
            {
                var verdicts = p.Recipients.Select(r => new RecipientVerdict(r,
                    failure.Permanent ? RecipientResult.Bounced : RecipientResult.Deferred, reply, failure.Status)).ToList();
                var attempt = new AttemptRecord(batch.NextHop, null, null, null, started, DateTimeOffset.UtcNow - started, ClientStage.Dns,
                    reply, plan.Level, "cleartext", "none", "no-peer: " + failure.Reason, MxDnssec: failure.MxDnssec);
                await FinishAsync(keeper, p.Message, attempt, verdicts, remoteMta: null, cancellationToken).ConfigureAwait(false);
            }
            return;
        }

        // REQUIRETLS messages (RFC 8689) travel in their own sessions, where no cleartext fallback exists.
        foreach (var group in pending.GroupBy(p => p.Message.RequireTls))
            await DeliverToPeersAsync(keeper, plan, group.ToList(), group.Key, cancellationToken).ConfigureAwait(false);
    }

    private async Task DeliverToPeersAsync(LeaseKeeper keeper, DeliveryPlan plan, List<Pending> pending, bool requireTls,
        CancellationToken cancellationToken)
    {
        var sessionToken = keeper.Token;
        var failures = new List<string>();
        // REQUIRETLS bookkeeping: peers reached over TLS but refused by RequireTlsGate, peers that failed any other
        // way, and peers that carried mail. Only refusals and nothing else make the §5 non-delivery report due.
        int requireTlsRefusals = 0, otherFailures = 0, acceptedPeers = 0;
        PeerPlan? lastPeer = null;
        SessionFailure? lastFailure = null;
        var lastStarted = DateTimeOffset.UtcNow;
        foreach (var peer in plan.Peers.Take(options.MaxAddressesPerAttempt))
        {
            if (pending.Count == 0) break;
            if (sessionToken.IsCancellationRequested) break;
            var key = SessionKey.For(plan.NextHop, peer, requireTls);
            // The per-destination limit. Waiting is covered: the keeper renews this batch's leases while DeliverAsync runs.
            SessionPool.Slot slot;
            try { slot = await sessions.AcquireAsync(key, sessionToken).ConfigureAwait(false); }
            catch (OperationCanceledException) when (sessionToken.IsCancellationRequested) { break; }
            EstablishedSession? session = null;
            var clean = false;
            try
            {
                session = slot.Reused;
                if (session is not null && !await StillUsableAsync(session, sessionToken).ConfigureAwait(false))
                {
                    // Gone while parked (peer timeout, 421): not an attempt, nothing to record; connect afresh on this slot.
                    await session.DisposeAsync().ConfigureAwait(false);
                    session = null;
                }
                var started = DateTimeOffset.UtcNow;
                if (session is null)
                {
                    var (opened, failure) = await SessionOpener.OpenAsync(peer, requireTls, options, sessionToken).ConfigureAwait(false);
                    if (failure is not null)
                    {
                        otherFailures++;
                        lastPeer = peer;
                        lastFailure = failure;
                        lastStarted = started;
                        failures.Add($"{peer.Peer.Name}[{peer.Peer.Address}]: {failure.Stage}: {failure.Text}");
                        logger.LogInformation("{NextHop}: {Peer}[{Address}] failed at {Stage}: {Text}", plan.NextHop, peer.Peer.Name, peer.Peer.Address,
                            failure.Stage, failure.Text);
                        // Recorded and linked to the recipients (so `queue show` lists it); they stay leased and move on.
                        await database.Attempts.RecordPassedOnAsync(Attempt(plan, peer, started, failure.Stage, failure.Text, failure.Transport),
                            pending.SelectMany(p => p.Recipients).Select(r => r.RecipientId).ToList(), failure.Text, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    session = opened!;
                }
                else
                {
                    logger.LogDebug("{NextHop}: reusing the session to {Peer}[{Address}] ({Transport})", plan.NextHop, peer.Peer.Name,
                        peer.Peer.Address, session.Transport.Transport);
                }

                if (requireTls && RequireTlsGate.Refusal(session) is { } refusal)
                {
                    // RFC 8689 §4.2.1: QUIT without MAIL and try the next peer. The session is not parked: its key
                    // carries the REQUIRETLS demand, which it will never meet (ordinary mail has sessions of its own).
                    requireTlsRefusals++;
                    lastPeer = session.Plan;
                    lastFailure = new SessionFailure(ClientStage.Ehlo, refusal, null, session.Transport);
                    lastStarted = started;
                    failures.Add($"{peer.Peer.Name}[{peer.Peer.Address}]: {refusal}");
                    logger.LogInformation("{NextHop}: {Peer}[{Address}] not used for REQUIRETLS mail: {Reason}", plan.NextHop, peer.Peer.Name,
                        peer.Peer.Address, refusal);
                    var transport = session.Transport with { Reason = session.Transport.Reason is { } why ? $"{refusal}; {why}" : refusal };
                    await database.Attempts.RecordPassedOnAsync(Attempt(plan, session.Plan, started, ClientStage.Ehlo, refusal, transport),
                        pending.SelectMany(p => p.Recipients).Select(r => r.RecipientId).ToList(), refusal, cancellationToken).ConfigureAwait(false);
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
                    // The session's own plan and transport: a reused session records what it was opened with, never more.
                    var attempt = Attempt(plan, session.Plan, transactionStarted, result.Stage, result.Reply, session.Transport);
                    await FinishAsync(keeper, p.Message, attempt, result.Recipients, session.Plan.Peer.Name, cancellationToken,
                        peerTakesDsn: session.Client.Capabilities.Dsn).ConfigureAwait(false);
                }
            }
            finally
            {
                // Usable and between transactions: parked for the next batch to this hop (closed with QUIT after SessionIdle).
                await sessions.ReleaseAsync(slot, key, session, clean).ConfigureAwait(false);
            }
        }

        if (pending.Count == 0) return;
        // A lost lease: these recipients belong to whoever holds them now; record nothing in their name.
        if (sessionToken.IsCancellationRequested && !cancellationToken.IsCancellationRequested) return;
        if (requireTls && requireTlsRefusals > 0 && otherFailures == 0 && acceptedPeers == 0 && !sessionToken.IsCancellationRequested)
        {
            await BounceRequireTlsAsync(keeper, plan, pending, string.Join("; ", failures), lastPeer, lastStarted, cancellationToken).ConfigureAwait(false);
            return;
        }
        // Every peer failed (or none was left): defer, with each peer's reason for the operator.
        var summary = failures.Count == 0 ? "no peer could be tried" : string.Join("; ", failures);
        var status = lastFailure?.Status ?? "4.4.1";
        foreach (var p in pending)
        {
            var verdicts = p.Recipients.Select(r => new RecipientVerdict(r, RecipientResult.Deferred, summary, status.StartsWith('5') ? "4.4.1" : status)).ToList();
            // Each peer's own attempt is already recorded; this row only carries the deferral (no session, nothing sent).
            var attempt = new AttemptRecord(plan.NextHop, null, null, null, lastStarted, DateTimeOffset.UtcNow - lastStarted,
                lastFailure?.Stage ?? ClientStage.Connect, summary, plan.Level, "cleartext", "none",
                failures.Count == 0 ? "not-sent: no peer could be tried" : "not-sent: every peer failed");
            await FinishAsync(keeper, p.Message, attempt, verdicts, lastPeer?.Peer.Name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// RFC 8689 §4.2.1 and §5: every peer was reached and none can take REQUIRETLS mail, so the message must not be
    /// sent and the sender gets a non-delivery report (5.7.30, "REQUIRETLS support required") now, not after days.
    /// </summary>
    private async Task BounceRequireTlsAsync(LeaseKeeper keeper, DeliveryPlan plan, List<Pending> pending, string summary, PeerPlan? lastPeer,
        DateTimeOffset started, CancellationToken cancellationToken)
    {
        var reply = $"550 5.7.30 REQUIRETLS support required: {summary}";
        foreach (var p in pending)
        {
            var verdicts = p.Recipients.Select(r => new RecipientVerdict(r, RecipientResult.Bounced, reply, "5.7.30")).ToList();
            // Each peer's refusal is already recorded with its real transport; this row only carries the bounce (nothing sent).
            var attempt = new AttemptRecord(plan.NextHop, null, null, null, started, DateTimeOffset.UtcNow - started, ClientStage.Ehlo, reply,
                plan.Level, "cleartext", "none", "not-sent: no peer satisfies REQUIRETLS");
            await FinishAsync(keeper, p.Message, attempt, verdicts, lastPeer?.Peer.Name, cancellationToken).ConfigureAwait(false);
        }
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

    /// <summary>Applies the retry schedule, sends DSNs, records the attempt with every recipient's outcome in one transaction.</summary>
    /// <param name="peerTakesDsn">The peer announced DSN and got our NOTIFY: success notices are its job now (RFC 3461 §5.2.2).</param>
    private async Task FinishAsync(LeaseKeeper keeper, QueuedMessage message, AttemptRecord attempt, IReadOnlyList<RecipientVerdict> verdicts, string? remoteMta,
        CancellationToken cancellationToken, bool peerTakesDsn = false)
    {
        var now = DateTimeOffset.UtcNow;
        var outcomes = new List<RecipientOutcome>(verdicts.Count);
        var reports = new List<(ClaimedRecipient, DsnRecipient)>();
        foreach (var v in verdicts)
        {
            var r = v.Recipient;
            switch (v.Result)
            {
                case RecipientResult.Delivered:
                    outcomes.Add(new RecipientOutcome(r.RecipientId, RecipientResult.Delivered, v.Reply));
                    // A peer without DSN ends the NOTIFY=SUCCESS chain here: we report "relayed" (RFC 3461 §5.2.2.3).
                    if (!peerTakesDsn)
                        reports.Add((r, new DsnRecipient(r.Address, r.DsnOrcpt, "relayed", v.Status, remoteMta, v.Reply)));
                    break;
                case RecipientResult.Bounced:
                    outcomes.Add(new RecipientOutcome(r.RecipientId, RecipientResult.Bounced, v.Reply));
                    reports.Add((r, new DsnRecipient(r.Address, r.DsnOrcpt, "failed", v.Status, remoteMta, v.Reply)));
                    break;
                default:
                    if (retry.Expired(r.ReceivedAt, now))
                    {
                        var text = $"gave up after {options.Lifetime.TotalHours:0.#} h in the queue; last error: {v.Reply}";
                        outcomes.Add(new RecipientOutcome(r.RecipientId, RecipientResult.Bounced, text));
                        reports.Add((r, new DsnRecipient(r.Address, r.DsnOrcpt, "failed", "4.4.7", remoteMta, text)));
                    }
                    else
                    {
                        var next = retry.NextAttempt(r.Attempts, r.ReceivedAt, now);
                        outcomes.Add(new RecipientOutcome(r.RecipientId, RecipientResult.Deferred, v.Reply, next));
                        if (retry.DelayWarningDue(r.Attempts, r.ReceivedAt, now))
                            reports.Add((r, new DsnRecipient(r.Address, r.DsnOrcpt, "delayed", v.Status.StartsWith('4') ? v.Status : "4.4.7",
                                remoteMta, $"{v.Reply} (will retry until {(r.ReceivedAt + options.Lifetime).UtcDateTime:u})")));
                    }
                    break;
            }
        }
        // The DSN is enqueued before the recipients become final: a crash in between sends it twice, never zero times.
        if (reports.Count > 0)
        {
            try
            {
                await bounces.SendAsync(message, reports, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException)
            {
                // Recording what the peer already has matters more: an unrecorded delivery is a duplicate later.
                logger.LogError(e, "{QueueId}: could not enqueue the DSN", message.QueueId);
            }
        }
        keeper.Done(outcomes.Select(o => o.RecipientId));
        await database.Attempts.RecordAsync(attempt, outcomes, cancellationToken).ConfigureAwait(false);
        foreach (var o in outcomes)
            logger.LogInformation("{QueueId}: recipient {Recipient} {Result} via {Peer}[{Address}] {Transport}{Reason} at {Stage}: {Reply}",
                message.QueueId, o.RecipientId, o.Result, attempt.PeerName, attempt.PeerAddress, attempt.Transport,
                attempt.Reason is null ? "" : $" ({attempt.Reason})", attempt.Stage, o.Reply);
    }

    private static AttemptRecord Attempt(DeliveryPlan plan, PeerPlan peer, DateTimeOffset started, string stage, string? reply, TransportOutcome t) =>
        new(plan.NextHop, peer.Peer.Name, peer.Peer.Address.ToString(), peer.Peer.Port, started, DateTimeOffset.UtcNow - started, stage, reply,
            peer.Level, t.Transport, t.How, t.Reason ?? (t.Transport == "cleartext" ? "unknown" : null),
            t.Tls?.Version, t.Tls?.Cipher, t.Tls?.SpkiSha256, t.Tls?.Subject, t.Tls?.ChainSummary,
            peer.Tlsa ?? [], peer.TlsaStatus, peer.Peer.MxDnssec, peer.Peer.AddressDnssec);
}
