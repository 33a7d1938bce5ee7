using Relay.Policy.Planning;

namespace Relay.Policy.Tests.Planning;

public class PolicyTableTests
{
    private static readonly PolicyTable Table = new([
        DestinationPolicy.Create("example.com", PolicyLevel.Secure),
        DestinationPolicy.Create(".example.com", PolicyLevel.Encrypt),
        DestinationPolicy.Create(".com", PolicyLevel.May),
        DestinationPolicy.Create("[10.0.0.5]:25", PolicyLevel.None),
    ], PolicyLevel.Dane);

    [Theory]
    [InlineData("example.com", PolicyLevel.Secure, "explicit example.com")]
    [InlineData("EXAMPLE.com.", PolicyLevel.Secure, "explicit example.com")]
    [InlineData("mail.example.com", PolicyLevel.Encrypt, "explicit .example.com")]
    [InlineData("a.b.example.com", PolicyLevel.Encrypt, "explicit .example.com")]
    [InlineData("other.com", PolicyLevel.May, "explicit .com")]
    [InlineData("example.org", PolicyLevel.Dane, "default")]
    public void Exact_then_closest_parent_then_default(string domain, PolicyLevel level, string source)
    {
        var resolved = Table.Lookup(domain);
        Assert.Equal(level, resolved.Level);
        Assert.Equal(source, resolved.Source);
    }

    [Fact]
    public void Route_entry_wins_over_the_domain()
    {
        Assert.Equal(PolicyLevel.None, Table.Lookup("example.com", "[10.0.0.5]:25").Level);
        Assert.Equal(PolicyLevel.Secure, Table.Lookup("example.com", "[10.0.0.6]:25").Level);
    }

    [Fact]
    public void Bad_values_are_named()
    {
        Assert.Contains("'dane_only'", Assert.Throws<FormatException>(() => DestinationPolicy.FromWire("example.com", "dane_only")).Message);
        Assert.Contains("'not a domain'", Assert.Throws<FormatException>(() => DestinationPolicy.Create("not a domain", PolicyLevel.May)).Message);
        Assert.Contains("fingerprint", Assert.Throws<FormatException>(() => DestinationPolicy.Create("example.com", PolicyLevel.Fingerprint)).Message);
        Assert.Contains("'abc'", Assert.Throws<FormatException>(() => DestinationPolicy.Create("example.com", PolicyLevel.Fingerprint, ["abc"])).Message);
    }

    [Fact]
    public void Fingerprints_are_normalised_to_upper_case_hex()
    {
        var pin = string.Join(":", Enumerable.Repeat("ab", 32));
        Assert.Equal([new string('A', 0) + string.Concat(Enumerable.Repeat("AB", 32))],
            DestinationPolicy.Create("example.com", PolicyLevel.Fingerprint, [pin]).Fingerprints);
    }
}
