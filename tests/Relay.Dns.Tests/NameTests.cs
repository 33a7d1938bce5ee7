namespace Relay.Dns.Tests;

public sealed class NameTests
{
    [Theory]
    [InlineData("example.org", "example.org.")]
    [InlineData("Example.Org.", "Example.Org.")]
    [InlineData(".", ".")]
    [InlineData(@"a\.b.example", @"a\.b.example.")]
    [InlineData(@"\065.example", "A.example.")]
    [InlineData(@"x\000y.example", @"x\000y.example.")]
    public void ValidNamesNormalizeToAbsolutePresentation(string input, string expected)
    {
        Assert.True(DnsName.TryNormalize(input, out var name));
        Assert.Equal(expected, name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData(".example")]
    [InlineData("exa mple.org")]
    [InlineData("bücher.example")]
    [InlineData(@"bad\")]
    [InlineData(@"bad\25")]
    [InlineData(@"bad\256.example")]
    public void InvalidNamesAreRejected(string input) => Assert.False(DnsName.TryNormalize(input, out _));

    [Fact]
    public void LabelsLongerThan63AndNamesLongerThan255AreRejected()
    {
        Assert.True(DnsName.TryNormalize(new string('a', 63) + ".example", out _));
        Assert.False(DnsName.TryNormalize(new string('a', 64) + ".example", out _));
        var label = new string('a', 63);
        Assert.True(DnsName.TryNormalize(string.Join('.', label, label, label, new string('a', 61)), out _)); // 255 octets
        Assert.False(DnsName.TryNormalize(string.Join('.', label, label, label, new string('a', 62)), out _));
    }

    [Theory]
    [InlineData("127.0.0.1:53", "127.0.0.1:53")]
    [InlineData("127.0.0.1", "127.0.0.1:53")]
    [InlineData("[::1]:5353", "[::1]:5353")]
    [InlineData("::1", "[::1]:53")]
    public void ServerAddressesParse(string text, string endpoint)
    {
        Assert.True(DnsServer.TryParse(text, trusted: true, out var server));
        Assert.Equal(endpoint, server!.Endpoint.ToString());
        Assert.True(server.Trusted);
    }

    [Theory]
    [InlineData("")]
    [InlineData("localhost:53")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("1.2.3:53x")]
    public void BadServerAddressesAreRejected(string text) => Assert.False(DnsServer.TryParse(text, true, out _));

    [Theory]
    [InlineData("tlsa", DnsType.TLSA)]
    [InlineData("MX", DnsType.MX)]
    [InlineData("IPSECKEY", DnsType.IPSECKEY)]
    [InlineData("TYPE65280", (DnsType)65280)]
    public void TypesParseByMnemonicOrNumber(string text, DnsType type)
    {
        Assert.True(DnsTypes.TryParse(text, out var parsed));
        Assert.Equal(type, parsed);
    }

    [Theory]
    [InlineData("MXX")]
    [InlineData("OPT")]
    [InlineData("ANY")]
    [InlineData("TYPE0")]
    [InlineData("1")]
    [InlineData("TYPE70000")]
    public void UnknownOrUnqueryableTypesAreRejected(string text) => Assert.False(DnsTypes.TryParse(text, out _));

    [Theory]
    [InlineData("mx.example.org.", "example.org.", true)]
    [InlineData("MX.Example.ORG", "example.org", true)]
    [InlineData("example.org.", "example.org.", true)]
    [InlineData("anything.", ".", true)]
    [InlineData("badexample.org.", "example.org.", false)]
    [InlineData(@"x\.example.org.", "example.org.", false)]
    [InlineData(@"x\.example.", "x.example.", false)]
    [InlineData("org.", "example.org.", false)]
    public void SubdomainTestWorksOnLabels(string name, string zone, bool expected) =>
        Assert.Equal(expected, DnsName.IsSubdomainOf(name, zone));

    [Theory]
    [InlineData("10.211.0.2", "2.0.211.10.in-addr.arpa.")]
    [InlineData("192.0.2.255", "255.2.0.192.in-addr.arpa.")]
    [InlineData("::ffff:192.0.2.1", "1.2.0.192.in-addr.arpa.")]
    [InlineData("2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.")]
    public void Reverse_names_follow_in_addr_and_ip6_arpa(string address, string expected) =>
        Assert.Equal(expected, DnsName.Reverse(System.Net.IPAddress.Parse(address)));
}
