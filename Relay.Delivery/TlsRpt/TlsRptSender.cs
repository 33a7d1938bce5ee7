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
/// then deliver to every rua — `mailto:` through Relay's own queue (marked as a report, so its delivery is never
/// reported), `https:` by POST — and record what each destination did. The claim makes one process send each report.
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

        var outcomes = new List<string>();
        var delivered = 0;
        var gzipped = TlsRptJson.Gzip(report);
        foreach (var destination in wanted.Destinations)
        {
            string? failure;
            if (destination.Scheme == Uri.UriSchemeMailto)
            {
                var queueId = await EnqueueAsync(report, TlsRptRecord.MailAddress(destination), cancellationToken).ConfigureAwait(false);
                outcomes.Add($"{destination}: queued as {queueId}");
                failure = null;
            }
            else
            {
                failure = await poster.PostAsync(destination, gzipped, cancellationToken).ConfigureAwait(false);
                outcomes.Add(failure ?? $"{destination}: accepted");
            }
            if (failure is null) delivered++;
        }
        var detail = string.Join("; ", outcomes);
        if (delivered == 0)
        {
            await database.TlsRpt.ReleaseAsync(domain, day, owner, cancellationToken).ConfigureAwait(false);
            return new(domain, TlsRptSendStatus.Failed, detail);
        }
        await database.TlsRpt.CompleteAsync(domain, day, owner, wanted.Destinations.Select(d => d.ToString()).ToList(), detail, cancellationToken)
            .ConfigureAwait(false);
        return new(domain, TlsRptSendStatus.Sent, $"{report.ReportId}: {detail}");
    }

    private Task<string> EnqueueAsync(TlsRptReport report, string recipient, CancellationToken cancellationToken)
    {
        var body = TlsRptMail.Compose(report, options, recipient, DateTimeOffset.UtcNow);
        var message = new NewMessage(options.FromAddress, body, "local", options.Submitter, InboundSecurity.Cleartext);
        return database.TlsRpt.EnqueueReportAsync(message, [new NewRecipient(recipient)], cancellationToken);
    }
}
