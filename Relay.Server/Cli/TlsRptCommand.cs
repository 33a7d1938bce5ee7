using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Delivery.TlsRpt;
using Relay.Dns;
using Relay.Policy;
using Relay.Policy.TlsRpt;
using Relay.Server.Configuration;

namespace Relay.Server.Cli;

/// <summary>
/// `relay tlsrpt show DOMAIN --day YYYY-MM-DD [--json]`: the RFC 8460 report of one recipient domain and UTC day, built
/// from the recorded attempts exactly as it would be sent. `relay tlsrpt send --day YYYY-MM-DD [DOMAIN]`: sends that
/// day's reports now (every domain with sessions, or one), through the same ledger as the delivery role's daily round,
/// so a report is never sent twice; exit 1 when a report could go nowhere.
/// </summary>
internal static class TlsRptCommand
{
    public static Command Build()
    {
        var showDomain = new Argument<string>("DOMAIN") { Description = "recipient (policy) domain" };
        var showDay = DayOption();
        var json = new Option<bool>("--json") { Description = "print the report's JSON (RFC 8460 §4)" };
        var show = new Command("show", "print a domain's TLS report for one UTC day") { showDomain, showDay, json };
        show.SetAction(async (parse, cancellationToken) =>
        {
            var domain = Domain(parse.GetValue(showDomain));
            var day = Day(parse.GetValue(showDay));
            var config = CliContext.Config();
            var options = TlsRptOptionsReader.Read(config, DeliveryOptionsReader.Read(config));
            await using var db = await DatabaseConnector.OpenCurrentAsync(config.RequireDatabase(), cancellationToken);
            var report = await new TlsRptReportBuilder(db, options).BuildAsync(domain, day, cancellationToken);
            Console.WriteLine(parse.GetValue(json) ? Encoding.UTF8.GetString(TlsRptJson.Serialize(report, indented: true)) : ToText(report));
            return RelayCli.Ok;
        });

        var sendDomain = new Argument<string?>("DOMAIN") { Description = "only this domain (default: every domain with sessions that day)", Arity = ArgumentArity.ZeroOrOne };
        var sendDay = DayOption();
        var sendJson = new Option<bool>("--json") { Description = "print one JSON document" };
        var send = new Command("send", "send a UTC day's TLS reports now (each report once, whoever sends it)") { sendDomain, sendDay, sendJson };
        send.SetAction(async (parse, cancellationToken) =>
        {
            var only = parse.GetValue(sendDomain) is { } d ? Domain(d) : null;
            var day = Day(parse.GetValue(sendDay));
            // A report is sent once: sending a day still running would leave the rest of it out for good.
            if (day >= DateOnly.FromDateTime(DateTime.UtcNow))
                throw new UsageException($"--day '{day:yyyy-MM-dd}' has not ended yet (UTC); a report covers a whole day");
            var config = CliContext.Config();
            var delivery = DeliveryOptionsReader.Read(config);
            var options = TlsRptOptionsReader.Read(config, delivery);
            await using var db = await DatabaseConnector.OpenCurrentAsync(config.RequireDatabase(), cancellationToken);
            var resolver = new DnsResolver(config.DnsServers.Select(e => new DnsServer(e, Trusted: true)).ToList());
            var sender = new TlsRptSender(db, resolver, options, NullLogger.Instance, $"cli-{Environment.ProcessId}@{config.Hostname}");
            var results = await sender.SendDayAsync(day, only is null ? null : [only], cancellationToken);
            if (parse.GetValue(sendJson))
                Console.WriteLine(JsonSerializer.Serialize(results.Select(r => new { domain = r.Domain, status = StatusWord(r.Status), detail = r.Detail })));
            else if (results.Count == 0)
                Console.WriteLine($"relay: no domain has a session to report on {day:yyyy-MM-dd}");
            else
                foreach (var r in results) Console.WriteLine($"{r.Domain}: {StatusWord(r.Status)}: {r.Detail}");
            return results.Any(r => r.Status == TlsRptSendStatus.Failed) ? RelayCli.Negative : RelayCli.Ok;
        });
        return new Command("tlsrpt", "TLS reports (RFC 8460) about our deliveries") { show, send };
    }

    private static Option<string> DayOption() => new("--day") { Description = "the UTC day, YYYY-MM-DD", Required = true };

    private static string Domain(string? text)
    {
        var name = (text ?? "").Trim();
        if (!DnsName.TryNormalize(name, out var normal) || !name.Contains('.'))
            throw new UsageException($"DOMAIN '{name}' is not a domain name");
        return normal.TrimEnd('.').ToLowerInvariant();
    }

    private static DateOnly Day(string? text) =>
        DateOnly.TryParseExact(text?.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : throw new UsageException($"--day '{text}' is not a UTC day as YYYY-MM-DD");

    private static string StatusWord(TlsRptSendStatus status) => status switch
    {
        TlsRptSendStatus.Sent => "sent",
        TlsRptSendStatus.NothingToReport => "nothing-to-report",
        TlsRptSendStatus.NotRequested => "not-requested",
        TlsRptSendStatus.AlreadySent => "already-sent",
        _ => "failed",
    };

    private static string ToText(TlsRptReport report)
    {
        var text = new StringBuilder();
        text.AppendLine($"TLS report {report.ReportId}: {report.Domain}, {report.Start:yyyy-MM-dd'T'HH:mm:ss'Z'} to {report.End:yyyy-MM-dd'T'HH:mm:ss'Z'}");
        text.AppendLine($"  organization {report.Organization}, contact {report.Contact}");
        if (report.IsEmpty) text.AppendLine("  no session of that day counts (none negotiated TLS or failed a TLS policy)");
        foreach (var p in report.Policies)
        {
            text.AppendLine($"  policy {p.Policy.Type.ToWire()}" + (p.Policy.MxHosts.Count > 0 ? $" for {string.Join(", ", p.Policy.MxHosts)}" : "") +
                            $": {p.Successful} successful, {p.Failed} failed");
            foreach (var line in p.Policy.Strings) text.AppendLine($"    {line}");
            foreach (var f in p.Failures)
                text.AppendLine($"    {f.Count} x {f.ResultType.ToWire()}: mx {f.ReceivingMx ?? "-"} ({f.ReceivingIp ?? "-"}, helo {f.ReceivingHelo ?? "-"}) from {f.SendingIp ?? "-"}");
        }
        return text.ToString().TrimEnd();
    }
}
