using System.Text.Json;
using Xunit.Abstractions;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// Relay:Tls:TrustAnchors replaces the system store for PKIX: the delivery world's CA is no public root, so a `verify`
/// destination served by its leaf is verified only because the delivery process (and `relay check`) were given that CA.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class TrustAnchorsDeliveryTests(DeliveryWorldFixture world, ITestOutputHelper output)
{
    private static readonly string Destination = $"pkix.{DeliveryWorldFixture.Signed}";

    private async Task SetVerifyPolicyAsync()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(new Dictionary<string, string> { ["Relay__Database"] = world.Queue.ConnectionString },
            "policy", "set", Destination, "verify");
        Assert.True(code == 0, $"relay policy set exited {code}: {stdout}{stderr}");
    }

    private Dictionary<string, string> CheckEnv(bool anchors)
    {
        var env = new Dictionary<string, string>
        {
            ["Relay__Dns__Servers__0"] = world.World.Resolver.ToString(),
            ["Relay__Database"] = world.Queue.ConnectionString,
        };
        if (anchors) env["Relay__Tls__TrustAnchors"] = world.TrustAnchorsFile;
        return env;
    }

    [Fact]
    public async Task Verify_policy_delivers_verified_by_pkix_to_a_peer_whose_ca_is_only_in_the_trust_anchors()
    {
        await SetVerifyPolicyAsync();
        var recipient = $"pkix-{Guid.NewGuid():N}"[..16] + $"@{Destination}";
        var id = await world.Queue.EnqueueAsync($"anchors@{DeliveryWorldFixture.SenderDomain}", [recipient]);
        await world.Queue.WaitForStatesAsync(id, TimeSpan.FromSeconds(30), "delivered", "deferred", "bounced");
        var shown = await world.Queue.ShowAsync(id);
        output.WriteLine(shown.Describe());

        Assert.True(Assert.Single(shown.Recipients()).Text("state") == "delivered", shown.Describe());
        var attempt = Assert.Single(shown.Attempts());
        // Secure MX + verify: the name DNS gave us is downgrade-resistant, so PKIX success is `verified`.
        Assert.Equal(("verified", "pkix", "verify"), (attempt.Text("transport"), attempt.Text("how"), attempt.Text("policy")));
        await world.WaitForArrivalAsync(world.Postfix, recipient);
    }

    [Fact]
    public async Task Check_honours_the_trust_anchors_and_without_them_the_same_peer_is_refused()
    {
        await SetVerifyPolicyAsync();

        var (code, stdout, stderr) = await RelayProcess.RunAsync(CheckEnv(anchors: true), "check", Destination, "--json");
        Assert.True(code == 0, stderr + stdout);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal("verify", json.RootElement.GetProperty("policy").GetProperty("level").GetString());
            var observed = Assert.Single(json.RootElement.GetProperty("observed").EnumerateArray());
            Assert.Equal(("verified", "pkix"), (observed.GetProperty("transport").GetString(), observed.GetProperty("how").GetString()));
        }

        (code, stdout, stderr) = await RelayProcess.RunAsync(CheckEnv(anchors: false), "check", Destination, "--json");
        Assert.True(code == 1, $"exit {code}: {stderr}{stdout}");
        using (var json = JsonDocument.Parse(stdout))
        {
            var observed = Assert.Single(json.RootElement.GetProperty("observed").EnumerateArray());
            Assert.Equal(JsonValueKind.Null, observed.GetProperty("transport").ValueKind);
            Assert.False(string.IsNullOrEmpty(observed.GetProperty("error").GetString()), stdout);
        }
    }
}
