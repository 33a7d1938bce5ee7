using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// An operator's `relay policy set` reaches a running delivery process through the database and beats opportunism:
/// the same Postfix without STARTTLS gets honest cleartext under the default, and nothing under `encrypt`.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class ExplicitPolicyDeliveryTests(DeliveryWorldFixture world, ITestOutputHelper output)
{
    [Fact]
    public async Task Policy_set_encrypt_on_the_cli_defers_mail_that_opportunism_sends_in_cleartext_to_the_same_peer()
    {
        var strict = $"strict.{DeliveryWorldFixture.Plain}";
        var (code, stdout, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = world.Queue.ConnectionString },
            "policy", "set", strict, "encrypt");
        Assert.True(code == 0, $"relay policy set exited {code}: {stdout}{stderr}");

        var open = $"open-{Guid.NewGuid():N}"[..16] + $"@open.{DeliveryWorldFixture.Plain}";
        var guarded = $"strict-{Guid.NewGuid():N}"[..16] + $"@{strict}";
        var openId = await world.Queue.EnqueueAsync($"policy@{DeliveryWorldFixture.SenderDomain}", [open]);
        var guardedId = await world.Queue.EnqueueAsync($"policy@{DeliveryWorldFixture.SenderDomain}", [guarded]);
        await world.Queue.WaitForStatesAsync(openId, TimeSpan.FromSeconds(30), "delivered", "deferred", "bounced");
        await world.Queue.WaitForStatesAsync(guardedId, TimeSpan.FromSeconds(30), "delivered", "deferred", "bounced");
        var openShown = await world.Queue.ShowAsync(openId);
        var guardedShown = await world.Queue.ShowAsync(guardedId);
        output.WriteLine(openShown.Describe());
        output.WriteLine(guardedShown.Describe());

        Assert.True(Assert.Single(openShown.Recipients()).Text("state") == "delivered", openShown.Describe());
        await world.WaitForArrivalAsync(world.Postfix, open);
        var cleartext = Assert.Single(openShown.Attempts());
        Assert.Equal(("cleartext", "starttls-not-offered", "dane"), (cleartext.Text("transport"), cleartext.Text("reason"), cleartext.Text("policy")));

        Assert.True(Assert.Single(guardedShown.Recipients()).Text("state") == "deferred", guardedShown.Describe());
        Assert.All(guardedShown.Attempts(), a => Assert.Equal(("encrypt", "ehlo"), (a.Text("policy"), a.Text("stage"))));
        Assert.False(await world.EverSeenAsync(world.Postfix, guarded), "mail went in cleartext despite the explicit encrypt policy");
    }
}
