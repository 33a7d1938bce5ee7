using System.Text;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>What the MX lookup itself says decides defer or bounce: a bogus answer is temporary, a null MX is final.</summary>
[Collection(DeliveryCollection.Name)]
public sealed class MxLookupDeliveryTests(DeliveryWorldFixture world)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Servfail_on_the_mx_lookup_defers_and_never_bounces()
    {
        var sender = $"mxsf-{Guid.NewGuid():N}"[..16] + "@" + DeliveryWorldFixture.SenderDomain;
        var id = await world.Queue.EnqueueAsync(sender, [$"bob@{DeliveryWorldFixture.Broken}"]);

        await world.Queue.WaitForStatesAsync(id, Patience, "deferred", "bounced", "delivered");
        var shown = await world.Queue.ShowAsync(id);

        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "deferred", shown.Describe());
        var attempt = Assert.Single(shown.Attempts());
        Assert.Equal(("dns", "bogus"), (attempt.Text("stage"), attempt.Text("mxDnssec")));
        Assert.Null(attempt.Text("transport")); // nothing was sent: no session, so no transport at all
        Assert.Equal("dnssec-invalid", attempt.Text("resultType"));
        Assert.Equal(0, await world.Queue.ScalarAsync(
            $"select count(*) from messages m join recipients r on r.message_id = m.id where m.sender = '' and r.address = '{sender}'"));
        Assert.False(await world.EverSeenAsync(world.Postfix, sender), "a DSN went out for a temporary DNS failure");
    }

    [Fact]
    public async Task Null_mx_bounces_with_5_1_10_and_the_dsn_reaches_the_sender()
    {
        var sender = $"nullmx-{Guid.NewGuid():N}"[..16] + "@" + DeliveryWorldFixture.SenderDomain;
        var recipient = $"carol@nullmx.{DeliveryWorldFixture.Plain}";
        var id = await world.Queue.EnqueueAsync(sender, [recipient]);

        await world.Queue.WaitForStatesAsync(id, Patience, "bounced", "deferred", "delivered");
        var shown = await world.Queue.ShowAsync(id);

        var state = Assert.Single(shown.Recipients());
        Assert.True(state.Text("state") == "bounced", shown.Describe());
        Assert.Contains("5.1.10", state.Text("lastResult"));
        Assert.DoesNotContain(shown.Attempts(), a => a.Text("peer") is not null); // no peer was ever contacted

        // The DSN is queued with the null sender, then delivered by the same process through the sender domain's route.
        await using var connection = new Npgsql.NpgsqlConnection(world.Queue.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "select m.body from messages m join recipients r on r.message_id = m.id where m.sender = '' and r.address = @a", connection);
        command.Parameters.AddWithValue("a", sender);
        var body = Encoding.UTF8.GetString((byte[])(await command.ExecuteScalarAsync() ?? throw new Xunit.Sdk.XunitException("no DSN queued")));
        Assert.Contains("5.1.10", body);
        Assert.Contains(recipient, body);
        var arrival = await world.WaitForArrivalAsync(world.Postfix, sender);
        Assert.Contains("status=sent", arrival);
    }
}
