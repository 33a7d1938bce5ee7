using System.Text.Json;
using Relay.TestKit.Dns;

namespace Relay.EndToEnd.Tests;

/// <summary>
/// `relay check --no-connect` against the standard signed DNS world: the same planner delivery uses, shown to the
/// operator. That world's MX addresses are documentation addresses (192.0.2.x), so these tests must never connect;
/// the connecting form is tested against real loopback peers in Delivery/CheckProbeTests.
/// </summary>
public sealed class CheckCommandTests(DnsWorldFixture fixture) : IClassFixture<DnsWorldFixture>
{
    private Dictionary<string, string> Env() => new() { ["Relay__Dns__Servers__0"] = fixture.World.Resolver.ToString() };

    [Fact]
    public async Task Secure_mx_with_usable_tlsa_expects_verified_by_dane()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(Env(), "check", StandardDnsWorld.SecureDomain, "--no-connect", "--json");

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("secure", json.RootElement.GetProperty("mxDnssec").GetString());
        var peer = json.RootElement.GetProperty("peers")[0];
        Assert.Equal("mx.secure.example", peer.GetProperty("name").GetString());
        Assert.Equal("secure", peer.GetProperty("tlsaDnssec").GetString());
        Assert.Equal("verified", peer.GetProperty("expected").GetString());
        Assert.Contains(StandardDnsWorld.TlsaHex, peer.GetProperty("tlsa")[0].GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Insecure_mx_never_expects_more_than_encrypted_without_tlsa()
    {
        var (code, stdout, stderr) = await RelayProcess.RunAsync(Env(), "check", StandardDnsWorld.InsecureDomain, "--no-connect", "--json");

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("insecure", json.RootElement.GetProperty("mxDnssec").GetString());
        foreach (var peer in json.RootElement.GetProperty("peers").EnumerateArray())
            Assert.NotEqual("verified", peer.GetProperty("expected").GetString());
    }

    [Fact]
    public async Task Nonexistent_domain_is_a_negative_answer_with_exit_1()
    {
        var (code, stdout, _) = await RelayProcess.RunAsync(Env(), "check", "nothere.secure.example", "--no-connect");

        Assert.Equal(1, code);
        Assert.Contains("cannot deliver", stdout);
    }

    [Fact]
    public async Task A_domain_that_is_not_a_name_is_bad_input_with_exit_2()
    {
        var (code, _, stderr) = await RelayProcess.RunAsync(Env(), "check", "exa mple..org", "--no-connect");

        Assert.Equal(2, code);
        Assert.Contains("exa mple..org", stderr);
    }
}
