using Microsoft.Extensions.Logging;
using Relay.Db;
using Relay.Dns;
using Relay.Policy.TlsRpt;

namespace Relay.Delivery.TlsRpt;

public enum TlsRptSendStatus
{
    /// <summary>At least one destination took the report (mail queued, or a 2xx to the POST).</summary>
    Sent,
    /// <summary>No session of that day counts for the domain.</summary>
    NothingToReport,
    /// <summary>The domain publishes no usable `_smtp._tls` record.</summary>
    NotRequested,
    /// <summary>Another process sent it, or is sending it now.</summary>
    AlreadySent,
    /// <summary>Every destination failed; the claim is released so a later round tries again.</summary>
    Failed,
}

public sealed record TlsRptSendResult(string Domain, TlsRptSendStatus Status, string Detail);

/// <summary>
/// Sends a day's reports (RFC 8460 §5): per domain, build the report, read `_smtp._tls`, claim (domain, day) in the ledger,
/// then deliver to every rua — `https:` by POST, then `mailto:` through Relay's own queue (marked as a report, so its delivery
/// is never reported) in the transaction that marks the report sent — and record what each destination did. The claim makes
/// one process send each report; the report-id is a function of domain, day and submitter, so a resend after a takeover
/// carries the same id (RFC 8460 §4.4 report-id).
/// </summary>
public sealed class TlsRptSender(RelayDatabase database, IDnsResolver resolver, TlsRptOptions options, ILogger logger, string owner)
{
    public RelayDatabase Database => database;
    private readonly TlsRptReportBuilder builder = new(database, options);
    private readonly TlsRptLookup lookup = new(resolver);
    private readonly TlsRptHttpsPoster poster = new(resolver, options);

    /// <param name="domains">The domains to send; null: every domain with a session that day that may count.</param>
    public async Task<IReadOnlyList<TlsRptSendResult>> SendDayAsync(DateOnly day, IReadOnlyList<string>? domains, CancellationToken cancellationToken)
    {
        domains ??= await database.TlsRptReader.DomainsAsync(day, cancellationToken).ConfigureAwait(false);
        var results = new List<TlsRptSendResult>();
        foreach (var domain in domains)
        {
            var result = await SendAsync(domain, day, cancellationToken).ConfigureAwait(false);
            results.Add(result);
            var level = result.Status == TlsRptSendStatus.Failed ? LogLevel.Warning : LogLevel.Information;
            logger.Log(level, "tlsrpt: {Domain} {Day:yyyy-MM-dd}: {Status}: {Detail}", domain, day, result.Status, result.Detail);
        }
        return results;
    }

    private async Task<TlsRptSendResult> SendAsync(string domain, DateOnly day, CancellationToken cancellationToken)
    {
        if (await database.TlsRpt.SentAtAsync(domain, day, cancellationToken).ConfigureAwait(false) is { } sentAt)
            return new(domain, TlsRptSendStatus.AlreadySent, $"sent at {sentAt:u}");
        var report = await builder.BuildAsync(domain, day, cancellationToken).ConfigureAwait(false);
        if (report.IsEmpty) return new(domain, TlsRptSendStatus.NothingToReport, "no session of that day counts");
        var discovery = await lookup.DiscoverAsync(domain, cancellationToken).ConfigureAwait(false);
        if (discovery is TlsRptDiscovery.NotWanted notWanted)
            return new(domain, TlsRptSendStatus.NotRequested, $"{TlsRptLookup.RecordName(domain)}: {notWanted.Reason}");
        var wanted = (TlsRptDiscovery.Wanted)discovery;
        foreach (var ignored in wanted.Ignored)
            logger.LogInformation("tlsrpt: {Domain}: rua URI ignored: {Why}", domain, ignored);
        if (!await database.TlsRpt.TryClaimAsync(domain, day, report.ReportId, owner, options.ClaimTakeover, cancellationToken).ConfigureAwait(false))
            return new(domain, TlsRptSendStatus.AlreadySent, "sent or being sent by another process");

        // https: first, each POST at most once per claim (a crash after a POST and before the mark below lets a takeover POST
        // again, with the same report-id, which RFC 8460 receivers use to tell a resend). Then the mailto: messages are
        // enqueued in the one transaction that marks the report sent: no crash can queue a mailed report twice.
        var outcomes = new List<string>();
        var accepted = 0;
        var gzipped = TlsRptJson.Gzip(report);
        foreach (var destination in wanted.Destinations.Where(d => d.Scheme == Uri.UriSchemeHttps))
        {
            var failure = await poster.PostAsync(destination, gzipped, cancellationToken).ConfigureAwait(false);
            outcomes.Add(failure ?? $"{destination}: accepted");
            if (failure is null) accepted++;
        }
        var mailto = wanted.Destinations.Where(d => d.Scheme == Uri.UriSchemeMailto).ToList();
        if (accepted == 0 && mailto.Count == 0)
        {
            await database.TlsRpt.ReleaseAsync(domain, day, owner, cancellationToken).ConfigureAwait(false);
            return new(domain, TlsRptSendStatus.Failed, string.Join("; ", outcomes));
        }
        var mails = mailto.Select(d => Mail(report, TlsRptRecord.MailAddress(d))).ToList();
        string Detail(IReadOnlyList<string> queueIds) =>
            string.Join("; ", outcomes.Concat(mailto.Select((d, i) => $"{d}: queued as {queueIds[i]}")));
        var queued = await database.TlsRpt.CompleteAsync(domain, day, owner, mails, wanted.Destinations.Select(d => d.ToString()).ToList(), Detail,
            cancellationToken).ConfigureAwait(false);
        if (queued is null)
            return new(domain, TlsRptSendStatus.AlreadySent, "the claim was taken over by another process before this one finished");
        return new(domain, TlsRptSendStatus.Sent, $"{report.ReportId}: {Detail(queued)}");
    }

    private ReportMail Mail(TlsRptReport report, string recipient)
    {
        var body = TlsRptMail.Compose(report, options, recipient, DateTimeOffset.UtcNow);
        return new ReportMail(new NewMessage(options.FromAddress, body, "local", options.Submitter, InboundSecurity.Cleartext), [new NewRecipient(recipient)]);
    }
}
