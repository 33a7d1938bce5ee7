using System.Net;
using Relay.Delivery.Ipsec;
using Relay.Policy;

namespace Relay.Delivery.Tests.Ipsec;

public class IpsecClassTableTests
{
    private static readonly IpsecClassTable Table = IpsecClassTable.FromRows([
        ("10.0.0.0/8", "private-or-clear"), ("10.1.0.0/16", "private"), ("10.1.2.3/32", "block"),
        ("2001:db8::/32", "clear-or-private"), ("2001:db8:1::/48", "private"),
    ]);

    [Theory]
    [InlineData("10.9.9.9", IpsecClass.PrivateOrClear)]
    [InlineData("10.1.9.9", IpsecClass.Private)]
    [InlineData("10.1.2.3", IpsecClass.Block)]
    [InlineData("::ffff:10.1.2.3", IpsecClass.Block)]
    [InlineData("192.0.2.1", IpsecClass.Clear)]
    [InlineData("2001:db8:2::1", IpsecClass.ClearOrPrivate)]
    [InlineData("2001:db8:1::25", IpsecClass.Private)]
    [InlineData("2001:db9::1", IpsecClass.Clear)]
    public void Longest_prefix_wins_per_family(string address, IpsecClass expected) =>
        Assert.Equal(expected, Table.Classify(IPAddress.Parse(address)).Class);

    [Fact]
    public void A_row_that_does_not_parse_names_itself()
    {
        Assert.Contains("'10.0.0.0/33'", Assert.Throws<FormatException>(() => IpsecClassTable.FromRows([("10.0.0.0/33", "clear")])).Message);
        Assert.Contains("'privat'", Assert.Throws<FormatException>(() => IpsecClassTable.FromRows([("10.0.0.0/8", "privat")])).Message);
    }

    [Fact]
    public void Policy_groups_list_each_prefix_under_its_class_and_every_class_has_a_file()
    {
        var files = PolicyGroupFiles.Render(Table);
        Assert.Equal(5, files.Count);
        Assert.Contains("10.1.0.0/16\n", files[IpsecClass.Private]);
        Assert.Contains("2001:db8:1::/48\n", files[IpsecClass.Private]);
        Assert.DoesNotContain("10.0.0.0/8", files[IpsecClass.Private]);
        Assert.DoesNotContain("/", files[IpsecClass.Clear].Split('\n', 2)[1]);
    }
}
