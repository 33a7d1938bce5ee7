using Relay.Policy.Planning;

namespace Relay.Policy.Tests.Planning;

/// <summary>What a policy destination is (shared by `relay policy set` and the web form): every broken form named in issue 15 is refused.</summary>
public class DestinationNormalizationTests
{
    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("Example.COM.", "example.com")]
    [InlineData(".example.com", ".example.com")]
    [InlineData(".com", ".com")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("[10.0.0.5]:25", "[10.0.0.5]:25")]
    [InlineData("[10.0.0.5]", "[10.0.0.5]:25")]
    [InlineData("[2001:DB8::1]:587", "[2001:db8::1]:587")]
    [InlineData("mail.internal:2525", "mail.internal:2525")]
    public void Good_destinations_get_their_canonical_key(string destination, string key) =>
        Assert.Equal(key, DestinationPolicy.NormalizeDestination(destination));

    [Theory]
    [InlineData("")]
    [InlineData("[")]
    [InlineData("[]")]
    [InlineData("[not an address")]
    [InlineData("[not-an-address]:25")]
    [InlineData("[999.1.1.1]:25")]
    [InlineData("[127.0.0.1]:99999")]
    [InlineData("[127.0.0.1]:0")]
    [InlineData("[127.0.0.1]:")]
    [InlineData("[127.0.0.1]25")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("999")]
    [InlineData("example.123")]
    [InlineData("exa mple.com")]
    [InlineData("-example.com")]
    [InlineData("example..com")]
    [InlineData("..example.com")]
    [InlineData("example.com:")]
    [InlineData("example.com:99999")]
    [InlineData("a:b:c")]
    public void Broken_destinations_are_refused_naming_the_value(string destination)
    {
        var e = Assert.Throws<FormatException>(() => DestinationPolicy.NormalizeDestination(destination));
        Assert.Contains($"'{destination}'", e.Message);
    }
}
