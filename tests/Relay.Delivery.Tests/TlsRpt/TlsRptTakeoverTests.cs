using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Relay.Db;
using Relay.Delivery.TlsRpt;
using Relay.Policy.TlsRpt;

namespace Relay.Delivery.Tests.TlsRpt;

/// <summary>
/// A process that died holding a report's claim: after the takeover the report goes out once through the queue (its
/// `mailto:` message enqueued in the transaction that marks it sent), the `https:` resend carries the same report-id, and
/// the dead claim's owner, were it to come back, can neither enqueue a second copy nor mark the report again.
/// </summary>
public class TlsRptTakeoverTests(TlsRptWorldFixture world) : IClassFixture<TlsRptWorldFixture>
{
    [Fact]
    public async Task A_claim_taken_over_after_a_crash_sends_the_mailed_report_once_and_the_resend_keeps_the_report_id()
    {
        await using var h = await Harness.CreateAsync();
        var ct = CancellationToken.None;
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);
        var noon = new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
        await h.Database.Attempts.RecordAsync(new AttemptRecord(TlsRptWorldFixture.Domain, "mx-good.rpt.test", "192.0.2.40", 25, noon, TimeSpan.Zero,
            "dot", "250 ok", "dane", "verified", "dane-ee", null, TlsVersion: "TLSv1.3", TlsCipher: "TLS_AES_128_GCM_SHA256",
            TlsRpt: new TlsRptFacts("tlsa", ["3 1 1 AB"], ["mx-good.rpt.test"], "192.0.2.10", "mx-good.rpt.test")), [], ct);
        var options = new TlsRptOptions("relay.test", TrustAnchors: world.TrustAnchors);
        var reportId = TlsRptReport.IdFor(TlsRptWorldFixture.Domain, day, options.Submitter);

        // The process that died: it claimed (and may have POSTed), then crashed before the transaction that queues and marks.
        Assert.True(await h.Database.TlsRpt.TryClaimAsync(TlsRptWorldFixture.Domain, day, reportId, "crashed", options.ClaimTakeover, ct));
        var blocked = await new TlsRptSender(h.Database, world.Resolver, options, NullLogger.Instance, "takeover").SendDayAsync(day, [TlsRptWorldFixture.Domain], ct);
        Assert.Equal(TlsRptSendStatus.AlreadySent, Assert.Single(blocked).Status);        // a live claim is not taken over
        Assert.Equal(0, await h.ScalarAsync("select count(*) from messages where tlsrpt_report"));
        Assert.Equal(1, await h.ScalarAsync("with u as (update tlsrpt_reports set claimed_at = now() - interval '31 minutes' returning 1) select count(*) from u"));

        var postsBefore = world.Posts.Count;
        var sent = Assert.Single(await new TlsRptSender(h.Database, world.Resolver, options, NullLogger.Instance, "takeover")
            .SendDayAsync(day, [TlsRptWorldFixture.Domain], ct));
        Assert.Equal(TlsRptSendStatus.Sent, sent.Status);
        Assert.Equal(1, await h.ScalarAsync("select count(*) from messages where tlsrpt_report"));
        Assert.Equal(1, await h.ScalarAsync($"select count(*) from messages where tlsrpt_report and convert_from(body, 'UTF8') like '%<{reportId}>%'"));
        Assert.Equal(postsBefore + 1, world.Posts.Count);
        using (var posted = JsonDocument.Parse(Gunzip(world.Posts.ToArray()[^1].Body)))
            Assert.Equal(reportId, posted.RootElement.GetProperty("report-id").GetString());

        // The dead claim's owner comes back and tries to finish: its transaction finds the claim gone and queues nothing.
        var late = await h.Database.TlsRpt.CompleteAsync(TlsRptWorldFixture.Domain, day, "crashed",
            [new ReportMail(new NewMessage("postmaster@relay.test", Encoding.ASCII.GetBytes("Subject: late\r\n\r\nx\r\n"), "local", "relay.test",
                InboundSecurity.Cleartext), [new NewRecipient(TlsRptWorldFixture.Mailbox)])],
            ["mailto:" + TlsRptWorldFixture.Mailbox], _ => "late", ct);
        Assert.Null(late);
        Assert.Equal(1, await h.ScalarAsync("select count(*) from messages where tlsrpt_report"));
        Assert.Equal(1, await h.ScalarAsync("select count(*) from tlsrpt_reports where claimed_by = 'takeover' and sent_at is not null and outcome <> 'late'"));

        var again = await new TlsRptSender(h.Database, world.Resolver, options, NullLogger.Instance, "third").SendDayAsync(day, [TlsRptWorldFixture.Domain], ct);
        Assert.Equal(TlsRptSendStatus.AlreadySent, Assert.Single(again).Status);
        Assert.Equal(1, await h.ScalarAsync("select count(*) from messages where tlsrpt_report"));
    }

    private static byte[] Gunzip(byte[] gzipped)
    {
        using var input = new GZipStream(new MemoryStream(gzipped), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
