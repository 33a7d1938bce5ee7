using Microsoft.Extensions.Logging.Abstractions;
using Relay.Db;
using Relay.Delivery.TlsRpt;

namespace Relay.Delivery.Tests.TlsRpt;

/// <summary>The delivery role's daily round, on the real clock: yesterday's report is sent by the round, once.</summary>
public class TlsRptScheduleTests(TlsRptWorldFixture world) : IClassFixture<TlsRptWorldFixture>
{
    [Fact]
    public async Task The_round_sends_yesterdays_report_and_records_it_in_the_ledger()
    {
        await using var h = await Harness.CreateAsync();
        var yesterday = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);
        var noon = new DateTimeOffset(yesterday.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
        await h.Database.Attempts.RecordAsync(new AttemptRecord(TlsRptWorldFixture.Domain, "mx-good.rpt.test", "192.0.2.40", 25, noon, TimeSpan.Zero,
            "dot", "250 ok", "dane", "verified", "dane-ee", null, TlsVersion: "TLSv1.3", TlsCipher: "TLS_AES_128_GCM_SHA256",
            TlsRpt: new TlsRptFacts("tlsa", ["3 1 1 AB"], ["mx-good.rpt.test"], "192.0.2.10", "mx-good.rpt.test")), [], CancellationToken.None);
        var options = new TlsRptOptions("relay.test", TrustAnchors: world.TrustAnchors) { SchedulePoll = TimeSpan.FromMilliseconds(200) };
        var sender = new TlsRptSender(h.Database, world.Resolver, options, NullLogger.Instance, "round");
        var postsBefore = world.Posts.Count;

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var round = new TlsRptSchedule(sender, options, NullLogger.Instance).RunAsync(stop.Token);
        while (!stop.IsCancellationRequested && await h.Database.TlsRpt.SentAtAsync(TlsRptWorldFixture.Domain, yesterday, CancellationToken.None) is null)
            await Task.Delay(100);
        // A few more rounds: the domain is settled for the day, nothing is sent again.
        await Task.Delay(700);
        await stop.CancelAsync();
        await round;

        Assert.NotNull(await h.Database.TlsRpt.SentAtAsync(TlsRptWorldFixture.Domain, yesterday, CancellationToken.None));
        Assert.Equal(postsBefore + 1, world.Posts.Count);
        Assert.Equal(1, await h.ScalarAsync("select count(*) from messages where tlsrpt_report"));
    }
}
