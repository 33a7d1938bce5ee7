using System.CommandLine;
using System.Text.Json;
using Relay.Delivery.Ipsec;
using Relay.Server.Cli;
using Relay.TestKit.Ipsec;

namespace Relay.Delivery.Tests.Ipsec;

/// <summary>`relay ipsec class …` over the database, and `relay ipsec status` over a real pluto pair.</summary>
public class IpsecCommandTests(PlutoPairFixture fixture) : IClassFixture<PlutoPairFixture>
{
    private static Task<(int Exit, string Out)> RunAsync(Harness h, IpsecOptions options, params string[] args) => RunAsync(h, options, null, args);

    internal static async Task<(int Exit, string Out)> RunAsync(Harness h, IpsecOptions options, Relay.Dns.IDnsResolver? dns, params string[] args)
    {
        var root = new RootCommand { IpsecCommand.Build(() => h.ConnectionString, () => options, () => dns) };
        var output = new StringWriter();
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = new StringWriter(), EnableDefaultExceptionHandler = false });
        return (exit, output.ToString());
    }

    [Fact]
    public async Task Class_set_list_delete_round_trip_in_json()
    {
        await using var h = await Harness.CreateAsync();
        var options = new IpsecOptions();
        Assert.Equal(0, (await RunAsync(h, options, "ipsec", "class", "set", "192.0.2.0/24", "private-or-clear")).Exit);
        Assert.Equal(0, (await RunAsync(h, options, "ipsec", "class", "set", "2001:db8::1", "block")).Exit);
        var (exit, output) = await RunAsync(h, options, "ipsec", "class", "list", "--json");
        Assert.Equal(0, exit);
        var rows = JsonDocument.Parse(output).RootElement.EnumerateArray().Select(e => (e.GetProperty("prefix").GetString(), e.GetProperty("class").GetString())).ToList();
        Assert.Equal([("192.0.2.0/24", "private-or-clear"), ("2001:db8::1/128", "block")], rows);
        Assert.Equal(0, (await RunAsync(h, options, "ipsec", "class", "delete", "192.0.2.0/24")).Exit);
        Assert.Equal(1, (await RunAsync(h, options, "ipsec", "class", "delete", "192.0.2.0/24")).Exit);
    }

    [Theory]
    [InlineData("set", "192.0.2.1/24", "private", "192.0.2.1/24")]
    [InlineData("set", "192.0.2.0/33", "private", "192.0.2.0/33")]
    [InlineData("set", "192.0.2.0/24", "privat", "privat")]
    [InlineData("delete", "mx.example", null, "mx.example")]
    public async Task Bad_prefix_or_class_is_usage_error_naming_the_value(string verb, string prefix, string? cls, string named)
    {
        await using var h = await Harness.CreateAsync();
        string[] args = cls is null ? ["ipsec", "class", verb, prefix] : ["ipsec", "class", verb, prefix, cls];
        var e = await Assert.ThrowsAsync<UsageException>(() => RunAsync(h, new IpsecOptions(), args));
        Assert.Contains($"'{named}'", e.Message);
    }

    [Fact]
    public async Task Status_reports_class_state_network_and_reason_from_pluto()
    {
        await using var h = await Harness.CreateAsync();
        var pair = fixture.Pair;
        await h.Database.Policies.SetIpsecAsync("10.211.0.0/24", "private-or-clear", CancellationToken.None);
        var options = NamespacePeer.Options(pair);
        // Disabled: nothing asked, and it says so.
        var (_, disabled) = await RunAsync(h, options with { Enabled = false }, "ipsec", "status", "10.211.0.2", "--json");
        var d = JsonDocument.Parse(disabled).RootElement;
        Assert.Equal(("private-or-clear", "none", "none", "ipsec-disabled"),
            (d.GetProperty("class").GetString(), d.GetProperty("state").GetString(), d.GetProperty("network").GetString(), d.GetProperty("reason").GetString()));

        // After a delivery's Ensure, pluto has the IKE SA (and, on a kernel with ESP, the ESP SA).
        await NamespacePeer.Sidecar(pair, h.Database).PrepareAsync(null, PlutoPair.PeerAddress, 25, CancellationToken.None);
        var (exit, output) = await RunAsync(h, options, "ipsec", "status", "10.211.0.2", "--json");
        Assert.Equal(0, exit);
        var s = JsonDocument.Parse(output).RootElement;
        Assert.Equal("private-or-clear", s.GetProperty("class").GetString());
        if (pair.KernelHasEsp)
            Assert.Equal(("esp", "ipsec-anonymous"), (s.GetProperty("state").GetString(), s.GetProperty("network").GetString()));
        else
        {
            Assert.Equal(("ike", "none"), (s.GetProperty("state").GetString(), s.GetProperty("network").GetString()));
            Assert.StartsWith("ike-only-child-failed", s.GetProperty("reason").GetString());
        }
        // Without a resolver no IPSECKEY is looked up: nothing authenticated, nothing listed.
        Assert.Equal(JsonValueKind.Null, s.GetProperty("authenticatedBy").ValueKind);
        Assert.Equal(0, s.GetProperty("ipseckeys").GetArrayLength());
        await Assert.ThrowsAsync<UsageException>(() => RunAsync(h, options, "ipsec", "status", "10.211.0.0/24"));
        var badName = await Assert.ThrowsAsync<UsageException>(() => RunAsync(h, options, "ipsec", "status", "10.211.0.2", "--name", "a..b"));
        Assert.Contains("'a..b'", badName.Message);
    }
}
