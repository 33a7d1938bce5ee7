using System.Text.Json;
using Relay.TestKit.Smtp.Peers;

namespace Relay.EndToEnd.Tests.Delivery;

/// <summary>
/// `relay check DOMAIN` (connecting) against the delivery world's real Postfix peers: the session it opens uses
/// delivery's planner, opener and certificate judge, so what it observes is what delivery would record.
/// </summary>
[Collection(DeliveryCollection.Name)]
public sealed class CheckProbeTests(DeliveryWorldFixture world)
{
    private Dictionary<string, string> Env() => new() { ["Relay__Dns__Servers__0"] = world.World.Resolver.ToString() };

    [Fact]
    public async Task Check_connects_and_observes_dane_ee_verification_with_the_peers_key()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(Env(), "check", $"ee.{DeliveryWorldFixture.Signed}", "--json");

        Assert.True(code == 0, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("verified", json.RootElement.GetProperty("peers")[0].GetProperty("expected").GetString());
        var observed = Assert.Single(json.RootElement.GetProperty("observed").EnumerateArray());
        Assert.Equal("verified", observed.GetProperty("transport").GetString());
        Assert.Equal("dane-ee", observed.GetProperty("how").GetString());
        Assert.Equal(PeerCertificates.SpkiSha256(world.Leaf), observed.GetProperty("tls").GetProperty("spki").GetString(), ignoreCase: true);
    }

    [Fact]
    public async Task Check_observes_a_self_signed_peer_without_dnssec_as_encrypted_never_more()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(Env(), "check", $"selfsigned.{DeliveryWorldFixture.Plain}", "--json");

        Assert.True(code == 0, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        var observed = Assert.Single(json.RootElement.GetProperty("observed").EnumerateArray());
        Assert.Equal("encrypted", observed.GetProperty("transport").GetString());
        Assert.Equal("none", observed.GetProperty("how").GetString());
    }
}
