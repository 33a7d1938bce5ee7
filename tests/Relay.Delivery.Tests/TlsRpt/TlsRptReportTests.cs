using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;
using Relay.Db;
using Relay.Delivery.TlsRpt;
using Relay.Policy.TlsRpt;

namespace Relay.Delivery.Tests.TlsRpt;

/// <summary>
/// RFC 8460 reports built from real recorded attempts (real PostgreSQL, real deliveries to DANE peers in a signed DNS
/// world) plus rows recorded for outcomes this world has no peer for, then sent for real: mail through Relay's own queue
/// to a test SMTP peer, parsed back with MimeKit, and a POST to a loopback HTTPS endpoint trusted via a test CA.
/// </summary>
public class TlsRptReportTests(TlsRptWorldFixture world) : IClassFixture<TlsRptWorldFixture>
{
    private static readonly string[] StsLines = ["version: STSv1", "mode: testing", "mx: mx-sts.rpt.test", "max_age: 86400"];

    private TlsRptOptions Options => new("relay.test", "Relay Test Org", "mailto:tlsrpt-contact@relay.test", world.TrustAnchors);

    private DeliveryOptions Delivery => Harness.Options(("reports.test", world.ReportMailbox.Route)) with { Port = 25 };

    /// <summary>One real delivery to mixed.rpt.test (MX 10 fails DANE, MX 20 verifies), then rows for the outcomes the world
    /// lacks, inside and just outside that UTC day. Returns the day.</summary>
    private async Task<(DateOnly Day, string Recipient)> RecordMixedDayAsync(Harness h)
    {
        // The fixture's peers serve every test of the class: each test's mail has its own recipient.
        var recipient = $"bob-{Guid.NewGuid():N}@{TlsRptWorldFixture.Domain}";
        await h.EnqueueAsync("alice@origin.test", [recipient]);
        await h.Role(Delivery, world.Resolver).RunOnceAsync(CancellationToken.None);
        var started = await h.ScalarAsync($"select extract(epoch from min(started_at))::bigint from delivery_attempts where next_hop = '{TlsRptWorldFixture.Domain}'");
        var day = DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeSeconds(started).UtcDateTime);
        var noon = new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);

        var sts = new TlsRptFacts("sts", StsLines, ["mx-sts.rpt.test"], "192.0.2.10", "mx-sts.rpt.test");
        AttemptRecord Row(DateTimeOffset at, string stage, string? transport, string? reason, string? resultType, TlsRptFacts facts,
            string? peer = "mx-sts.rpt.test", string? address = "192.0.2.20", string? tls = null, string level = "may") =>
            new(TlsRptWorldFixture.Domain, peer, address, peer is null ? null : 25, at, TimeSpan.FromMilliseconds(5), stage, "250 ok", level,
                transport, "none", reason, TlsVersion: tls, TlsCipher: tls is null ? null : "TLS_AES_128_GCM_SHA256", ResultType: resultType, TlsRpt: facts);
        var rows = new[]
        {
            // MTA-STS testing: two sessions whose TLS worked, two that met an expired certificate.
            Row(noon, "dot", "encrypted", null, null, sts, tls: "TLSv1.3"),
            Row(noon.AddMinutes(1), "dot", "encrypted", null, null, sts, tls: "TLSv1.3"),
            Row(noon.AddMinutes(2), "tls", null, "certificate expired", "certificate-expired", sts),
            Row(noon.AddMinutes(3), "tls", null, "certificate expired", "certificate-expired", sts),
            // Opportunistic, no STARTTLS: delivered in cleartext, a starttls-not-supported failure with no HELO known.
            Row(noon.AddMinutes(4), "dot", "cleartext", "starttls-not-offered", "starttls-not-supported",
                new TlsRptFacts("no-policy-found", [], [], "192.0.2.10"), peer: "mx-plain.rpt.test", address: "192.0.2.30"),
            // The plan failed on DNSSEC before any session: counts, with no peer.
            Row(noon.AddMinutes(5), "dns", null, "TLSA bogus", "dnssec-invalid", new TlsRptFacts("tlsa", [], []), peer: null, address: null, level: "dane"),
            // Not TLS's doing: a refused connection and a `none` policy's cleartext have no result type and no handshake.
            Row(noon.AddMinutes(6), "connect", null, "connection refused", null, new TlsRptFacts("no-policy-found", [], []), peer: "mx-plain.rpt.test", address: "192.0.2.31"),
            Row(noon.AddMinutes(7), "dot", "cleartext", "policy-none", null, new TlsRptFacts("no-policy-found", [], [], "192.0.2.10"), peer: "mx-plain.rpt.test", address: "192.0.2.30", level: "none"),
            // The neighbouring days.
            Row(noon.AddHours(-12).AddSeconds(-1), "dot", "encrypted", null, null, sts, tls: "TLSv1.3"),
            Row(noon.AddHours(12), "dot", "encrypted", null, null, sts, tls: "TLSv1.3"),
        };
        foreach (var row in rows) await h.Database.Attempts.RecordAsync(row, [], CancellationToken.None);
        return (day, recipient);
    }

    private static JsonElement PolicyEntry(JsonElement report, string type, string? mx)
    {
        var matches = report.GetProperty("policies").EnumerateArray().Where(p =>
        {
            var policy = p.GetProperty("policy");
            var hosts = policy.TryGetProperty("mx-host", out var m) ? m.EnumerateArray().Select(e => e.GetString()).ToArray() : [];
            return policy.GetProperty("policy-type").GetString() == type && (mx is null ? hosts.Length == 0 : hosts.SequenceEqual([mx]));
        }).ToList();
        return Assert.Single(matches);
    }

    private static (long Ok, long Failed) Summary(JsonElement entry) =>
        (entry.GetProperty("summary").GetProperty("total-successful-session-count").GetInt64(),
         entry.GetProperty("summary").GetProperty("total-failure-session-count").GetInt64());

    private static Dictionary<string, string> Fields(JsonElement detail) =>
        detail.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetInt64().ToString() : p.Value.GetString()!);

    [Fact]
    public async Task A_day_of_mixed_outcomes_gives_the_rfc_8460_json_field_by_field()
    {
        await using var h = await Harness.CreateAsync();
        var (day, recipient) = await RecordMixedDayAsync(h);
        var report = await new TlsRptReportBuilder(h.Database, Options).BuildAsync(TlsRptWorldFixture.Domain, day, CancellationToken.None);
        using var json = JsonDocument.Parse(TlsRptJson.Serialize(report));
        var root = json.RootElement;

        Assert.Equal(["organization-name", "date-range", "contact-info", "report-id", "policies"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Relay Test Org", root.GetProperty("organization-name").GetString());
        Assert.Equal($"{day:yyyy-MM-dd}T00:00:00Z", root.GetProperty("date-range").GetProperty("start-datetime").GetString());
        Assert.Equal($"{day:yyyy-MM-dd}T23:59:59Z", root.GetProperty("date-range").GetProperty("end-datetime").GetString());
        Assert.Equal("mailto:tlsrpt-contact@relay.test", root.GetProperty("contact-info").GetString());
        Assert.Equal($"{day:yyyyMMdd}.{TlsRptWorldFixture.Domain}@relay.test", root.GetProperty("report-id").GetString());
        Assert.Equal(5, root.GetProperty("policies").GetArrayLength());

        // The real delivery: MX 10's TLSA matches nothing (tlsa-invalid), MX 20 verifies; each MX is its own tlsa policy.
        var bad = PolicyEntry(root, "tlsa", "mx-bad.rpt.test");
        Assert.Equal([$"3 1 1 {new string('A', 64)}"], bad.GetProperty("policy").GetProperty("policy-string").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(TlsRptWorldFixture.Domain, bad.GetProperty("policy").GetProperty("policy-domain").GetString());
        Assert.Equal((0L, 1L), Summary(bad));
        var badDetail = Fields(Assert.Single(bad.GetProperty("failure-details").EnumerateArray()));
        Assert.Equal("tlsa-invalid", badDetail["result-type"]);
        Assert.Equal("mx-bad.rpt.test", badDetail["receiving-mx-hostname"]);
        Assert.Equal(world.Bad.EndPoint.Address.ToString(), badDetail["receiving-ip"]);
        Assert.Equal("mx-bad.rpt.test", badDetail["receiving-mx-helo"]);
        Assert.True(IPAddress.TryParse(badDetail["sending-mta-ip"], out var ours) && IPAddress.IsLoopback(ours), badDetail["sending-mta-ip"]);
        Assert.Equal("1", badDetail["failed-session-count"]);
        Assert.Single(world.Good.Messages, m => m.Recipients.Contains(recipient));
        var good = PolicyEntry(root, "tlsa", "mx-good.rpt.test");
        Assert.Equal((1L, 0L), Summary(good));
        Assert.Single(good.GetProperty("policy").GetProperty("policy-string").EnumerateArray());
        Assert.False(good.TryGetProperty("failure-details", out _));

        var sts = PolicyEntry(root, "sts", "mx-sts.rpt.test");
        Assert.Equal(StsLines, sts.GetProperty("policy").GetProperty("policy-string").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal((2L, 2L), Summary(sts));   // the neighbouring days' sessions are not in it
        Assert.Equal(new Dictionary<string, string>
        {
            ["result-type"] = "certificate-expired", ["sending-mta-ip"] = "192.0.2.10", ["receiving-mx-hostname"] = "mx-sts.rpt.test",
            ["receiving-mx-helo"] = "mx-sts.rpt.test", ["receiving-ip"] = "192.0.2.20", ["failed-session-count"] = "2",
        }, Fields(Assert.Single(sts.GetProperty("failure-details").EnumerateArray())));

        var dnssec = PolicyEntry(root, "tlsa", null);
        Assert.False(dnssec.GetProperty("policy").TryGetProperty("policy-string", out _));
        Assert.Equal((0L, 1L), Summary(dnssec));
        Assert.Equal(new Dictionary<string, string> { ["result-type"] = "dnssec-invalid", ["failed-session-count"] = "1" },
            Fields(Assert.Single(dnssec.GetProperty("failure-details").EnumerateArray())));

        // The refused connection and the `none` policy's cleartext session are not sessions the RFC counts.
        var none = PolicyEntry(root, "no-policy-found", null);
        Assert.Equal((0L, 1L), Summary(none));
        Assert.Equal(new Dictionary<string, string>
        {
            ["result-type"] = "starttls-not-supported", ["sending-mta-ip"] = "192.0.2.10", ["receiving-mx-hostname"] = "mx-plain.rpt.test",
            ["receiving-ip"] = "192.0.2.30", ["failed-session-count"] = "1",
        }, Fields(Assert.Single(none.GetProperty("failure-details").EnumerateArray())));
    }

    [Fact]
    public async Task Reports_go_by_mail_as_multipart_report_and_by_https_post_once_and_their_own_delivery_is_never_reported()
    {
        await using var h = await Harness.CreateAsync();
        var (day, _) = await RecordMixedDayAsync(h);
        var expected = TlsRptJson.Serialize(await new TlsRptReportBuilder(h.Database, Options).BuildAsync(TlsRptWorldFixture.Domain, day, CancellationToken.None));
        var postsBefore = world.Posts.Count;

        // Two senders (as two processes on one database would be) at once: the ledger lets exactly one send.
        var senders = new[] { "one", "two" }.Select(owner => new TlsRptSender(h.Database, world.Resolver, Options, NullLogger.Instance, owner)).ToArray();
        var results = await Task.WhenAll(senders.Select(s => s.SendDayAsync(day, [TlsRptWorldFixture.Domain], CancellationToken.None)));
        var statuses = results.Select(r => Assert.Single(r).Status).OrderBy(s => s).ToArray();
        Assert.Equal([TlsRptSendStatus.Sent, TlsRptSendStatus.AlreadySent], statuses);
        Assert.Equal(TlsRptSendStatus.AlreadySent, Assert.Single(await senders[0].SendDayAsync(day, null, CancellationToken.None)
            .ContinueWith(t => t.Result.Where(r => r.Domain == TlsRptWorldFixture.Domain).ToList())).Status);

        // https: one POST of the gzip'd JSON as application/tlsrpt+gzip.
        Assert.Equal(postsBefore + 1, world.Posts.Count);
        var post = world.Posts.Last();
        Assert.Equal("application/tlsrpt+gzip", post.ContentType);
        Assert.Equal(expected, Gunzip(post.Body));

        // mailto: through Relay's own queue to the report mailbox's peer.
        await h.Role(Delivery, world.Resolver).RunOnceAsync(CancellationToken.None);
        var mail = Assert.Single(world.ReportMailbox.Messages, m => m.Recipients.Contains(TlsRptWorldFixture.Mailbox) && m.Text.Contains($"{day:yyyyMMdd}.{TlsRptWorldFixture.Domain}"));
        Assert.Equal("tlsrpt-contact@relay.test", mail.MailFrom);
        var message = MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(mail.Text)));
        Assert.Equal($"Report Domain: {TlsRptWorldFixture.Domain} Submitter: relay.test Report-ID: <{day:yyyyMMdd}.{TlsRptWorldFixture.Domain}@relay.test>", message.Subject);
        Assert.Equal(TlsRptWorldFixture.Domain, message.Headers["TLS-Report-Domain"]);
        Assert.Equal("relay.test", message.Headers["TLS-Report-Submitter"]);
        Assert.Equal("tlsrpt-contact@relay.test", ((MailboxAddress)message.From[0]).Address);
        var report = Assert.IsType<MultipartReport>(message.Body);
        Assert.Equal("tlsrpt", report.ReportType);
        Assert.Equal("tlsrpt", report.ContentType.Parameters["report-type"]);
        Assert.Equal(2, report.Count);
        Assert.Equal("text/plain", report[0].ContentType.MimeType);
        var attachment = Assert.IsType<MimePart>(report[1]);
        Assert.Equal("application/tlsrpt+gzip", attachment.ContentType.MimeType);
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds();
        Assert.StartsWith($"relay.test!{TlsRptWorldFixture.Domain}!{start}!{start + 86399}!", attachment.FileName);
        Assert.EndsWith(".json.gz", attachment.FileName);
        using var decoded = new MemoryStream();
        attachment.Content!.DecodeTo(decoded);
        Assert.Equal(expected, Gunzip(decoded.ToArray()));

        // The report's own delivery is recorded, marked, and in no report.
        Assert.True(await h.ScalarAsync("select count(*) from delivery_attempts where next_hop = 'reports.test' and tlsrpt_report") >= 1);
        Assert.Equal(0, await h.ScalarAsync("select count(*) from delivery_attempts where next_hop = 'reports.test' and not tlsrpt_report"));
        Assert.DoesNotContain("reports.test", await h.Database.TlsRptReader.DomainsAsync(day, CancellationToken.None));
    }

    [Fact]
    public async Task A_domain_with_two_tlsrpt_records_gets_no_report_and_the_log_says_why()
    {
        await using var h = await Harness.CreateAsync();
        await h.EnqueueAsync("alice@origin.test", ["carol@twice.rpt.test"]);
        await h.Role(Delivery, world.Resolver).RunOnceAsync(CancellationToken.None);
        var started = await h.ScalarAsync("select extract(epoch from min(started_at))::bigint from delivery_attempts where next_hop = 'twice.rpt.test'");
        var day = DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeSeconds(started).UtcDateTime);
        var result = Assert.Single(await new TlsRptSender(h.Database, world.Resolver, Options, NullLogger.Instance, "one")
            .SendDayAsync(day, ["twice.rpt.test"], CancellationToken.None));
        Assert.Equal(TlsRptSendStatus.NotRequested, result.Status);
        Assert.Contains("2 v=TLSRPTv1 TXT records", result.Detail);
        Assert.Equal(0, await h.ScalarAsync("select count(*) from tlsrpt_reports"));
    }

    private static byte[] Gunzip(byte[] gzipped)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(gzipped), CompressionMode.Decompress)) gzip.CopyTo(output);
        return output.ToArray();
    }
}
