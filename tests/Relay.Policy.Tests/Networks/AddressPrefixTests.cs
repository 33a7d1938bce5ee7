using Relay.Policy.Networks;

namespace Relay.Policy.Tests.Networks;

/// <summary>The prefix parser the web form and `relay ipsec class set` share: only what prints back as typed.</summary>
public class AddressPrefixTests
{
    [Theory]
    [InlineData("192.0.2.0/24", "192.0.2.0/24")]
    [InlineData("192.0.2.7", "192.0.2.7/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("2001:DB8::/32", "2001:db8::/32")]
    [InlineData("::1", "::1/128")]
    [InlineData(" 10.0.0.0/8 ", "10.0.0.0/8")]
    public void Standard_prefixes_are_accepted(string text, string printed)
    {
        Assert.Null(AddressPrefix.TryParse(text, out var prefix));
        Assert.Equal(printed, prefix.ToString());
    }

    [Theory]
    [InlineData("", "required")]
    [InlineData("1.2.3", "standard form")]
    [InlineData("127.1/32", "127.0.0.1")]
    [InlineData("0x7f000001/32", "127.0.0.1")]
    [InlineData("010.0.0.0/8", "standard form")]
    [InlineData("fe80::1%eth0/128", "zone")]
    [InlineData("fe80::1%2", "zone")]
    [InlineData("10.0.0.0/33", "0 to 32")]
    [InlineData("10.0.0.0/08", "leading zeros")]
    [InlineData("10.0.0.0/+8", "leading zeros")]
    [InlineData("10.0.0.0/", "0 to 32")]
    [InlineData("192.0.2.1/24", "did you mean 192.0.2.0/24")]
    [InlineData("2001:db8::1/32", "did you mean 2001:db8::/32")]
    [InlineData("example.org/24", "address prefix")]
    [InlineData("1.2.3.4/24/8", "0 to 32")]
    public void Anything_that_would_store_another_prefix_is_refused(string text, string why)
    {
        var problem = AddressPrefix.TryParse(text, out _);
        Assert.NotNull(problem);
        Assert.Contains(why, problem);
    }
}
