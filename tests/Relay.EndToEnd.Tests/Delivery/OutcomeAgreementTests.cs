using System.Text.Json;
using System.Text.RegularExpressions;
using Relay.Db;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// Every scenario of the signed DNS world, on the real executable: the attempt rows in the database, `relay queue show
/// --json`, the JSON API, the delivery log line and the UI's badge agree word for word, and no scenario that sends
/// nothing shows a transport anywhere ("nothing sent" in the UI and the log, null in JSON and SQL).
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed partial class OutcomeAgreementTests(DeliveryWorldFixture world, ITestOutputHelper output)
{
    private const string Sender = "agree@" + DeliveryWorldFixture.SenderDomain;

    /// <param name="Transport">The one transport word every view must show for the attempt that settled the recipient; null: nothing sent.</param>
    public sealed record Scenario(string Domain, string State, string? Transport, string? ResultType = null)
    {
        public override string ToString() => Domain;
    }

    public static TheoryData<Scenario> Scenarios() =>
    [
        new($"ee.{DeliveryWorldFixture.Signed}", "delivered", "verified"),
        new($"ta.{DeliveryWorldFixture.Signed}", "delivered", "verified"),
        new($"mismatch.{DeliveryWorldFixture.Signed}", "deferred", null, "tlsa-invalid"),
        new($"stripped.{DeliveryWorldFixture.Signed}", "deferred", null, "starttls-not-supported"),
        new($"servfail.{DeliveryWorldFixture.Signed}", "delivered", "verified"),
        new($"unusable.{DeliveryWorldFixture.Signed}", "delivered", "encrypted"),
        new($"trusted.{DeliveryWorldFixture.Plain}", "delivered", "trusted"),
        new($"selfsigned.{DeliveryWorldFixture.Plain}", "delivered", "encrypted"),
        new($"open.{DeliveryWorldFixture.Plain}", "delivered", "cleartext"),
        new($"strict.{DeliveryWorldFixture.Plain}", "deferred", null, "starttls-not-supported"),
        new($"nullmx.{DeliveryWorldFixture.Plain}", "bounced", null),
        new(DeliveryWorldFixture.Broken, "deferred", null, "dnssec-invalid"),
    ];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Database_cli_api_log_and_ui_agree_and_nothing_sent_shows_no_transport(Scenario scenario)
    {
        if (scenario.Domain.StartsWith("strict.", StringComparison.Ordinal))
            await world.Queue.Database.Policies.SetAsync(scenario.Domain, "encrypt", [], [], null, CancellationToken.None);
        var recipient = $"agree-{Guid.NewGuid():N}"[..18] + "@" + scenario.Domain;
        var id = await world.Queue.EnqueueAsync(Sender, [recipient]);
        await world.Queue.WaitForStatesAsync(id, TimeSpan.FromSeconds(30), scenario.State);

        var rows = (await world.Queue.DetailAsync(id)).Attempts;
        var shown = (await world.Queue.ShowAsync(id)).Attempts();
        using var web = await world.WebAsync();
        using var api = JsonDocument.Parse(await web.GetStringAsync($"/api/messages/{id}"));
        var apiAttempts = api.RootElement.GetProperty("attempts").EnumerateArray().ToList();
        var badges = Badges(await web.GetStringAsync($"/queue/{id}"));
        var log = LogLines(world.Relay.Output, id);
        output.WriteLine(string.Join('\n', rows.Select(r => $"{r.Peer} {r.Stage} {r.Transport ?? "(nothing sent)"} {r.How} {r.Reason} {r.ResultType}")));
        output.WriteLine(string.Join('\n', log));

        Assert.NotEmpty(rows);
        Assert.Equal(rows.Count, shown.Count);
        Assert.Equal(rows.Count, apiAttempts.Count);
        Assert.Equal(rows.Count, badges.Count);
        Assert.Equal(rows.Count, log.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            Assert.Equal(row.Transport, shown[i].Text("transport"));
            Assert.Equal((row.How, row.Reason, row.Stage), (shown[i].Text("how"), shown[i].Text("reason"), shown[i].Text("stage")));
            Assert.Equal(row.ResultType, shown[i].Text("resultType"));
            Assert.Equal((row.Network, row.NetworkReason), (shown[i].Text("network"), shown[i].Text("networkReason")));
            Assert.Equal(row.Transport, apiAttempts[i].Text("transport"));
            Assert.Equal((row.How, row.Reason, row.ResultType), (apiAttempts[i].Text("how"), apiAttempts[i].Text("reason"), apiAttempts[i].Text("resultType")));
            Assert.Equal(row.Transport ?? "nothing sent", badges[i]);
        }
        // The log has no order guarantee against the table's, so each row has its own line with the same words.
        foreach (var row in rows)
            Assert.Contains(log, line => line.Contains($" at {row.Stage}: ", StringComparison.Ordinal)
                && (row.Transport is null
                    ? line.Contains($"nothing sent ({row.Reason})", StringComparison.Ordinal)
                    : line.Contains($"{row.Transport} how {row.How} reason {row.Reason ?? "-"}", StringComparison.Ordinal))
                && line.Contains($"; network {row.Network} ({row.NetworkReason ?? "-"}); result {row.ResultType ?? "none"}", StringComparison.Ordinal));

        var settling = rows[0];
        Assert.Equal(scenario.Transport, settling.Transport);
        if (scenario.Transport is null)
        {
            Assert.All(rows, r => Assert.Null(r.Transport));
            Assert.All(rows, r => Assert.False(string.IsNullOrEmpty(r.Reason), "nothing sent without a reason"));
            Assert.DoesNotContain(log, line => line.Contains("cleartext", StringComparison.Ordinal));
        }
        if (scenario.ResultType is not null)
            Assert.Contains(rows, r => r.ResultType == scenario.ResultType);
        Assert.Equal(scenario.State, Assert.Single((await world.Queue.DetailAsync(id)).Recipients).State);
    }

    /// <summary>The outcome badge of each attempt row on the message page, top to bottom: its visible word.</summary>
    private static IReadOnlyList<string> Badges(string html) =>
        [.. AttemptRow().Matches(html).Select(m => Regex.Replace(m.Groups["badge"].Value, "^[^a-z]+", ""))];

    private static IReadOnlyList<string> LogLines(string log, string queueId) =>
        [.. log.Split('\n').Where(l => l.Contains(queueId, StringComparison.Ordinal) && l.Contains(": attempt to ", StringComparison.Ordinal))];

    [GeneratedRegex("<tr class=\"[^\"]*\" data-transport=\"[^\"]*\">.*?<span class=\"badge t-[a-z]+\"[^>]*>(?<badge>[^<]+)</span>", RegexOptions.Singleline)]
    private static partial Regex AttemptRow();
}
