using System.Net;
using System.Text;
using Relay.Smtp.Server;

namespace Relay.Inbound.Tests;

public class RelayAccessRulesTests
{
    private static readonly RelayAccess Access = new(["hosted.example"], ["10.0.0.0/8", "2001:db8::/32", "192.0.2.9"]);

    private static Mailbox Rcpt(string path) =>
        ((RcptCommand)CommandParser.Parse(Encoding.UTF8.GetBytes($"RCPT TO:<{path}>")).Command!).Recipient;

    [Theory]
    [InlineData("10.1.2.3", true)]
    [InlineData("::ffff:10.1.2.3", true)]
    [InlineData("2001:db8::5", true)]
    [InlineData("192.0.2.9", true)]
    [InlineData("192.0.2.10", false)]
    [InlineData("11.0.0.1", false)]
    public void Trusted_networks_match_by_cidr_including_mapped_ipv4(string address, bool trusted)
    {
        Assert.Equal(trusted, Access.IsTrusted(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("a@hosted.example", "192.0.2.200", false, RecipientAccess.Hosted)]
    [InlineData("a@elsewhere.example", "192.0.2.200", false, RecipientAccess.RelayDenied)]
    [InlineData("a@elsewhere.example", "192.0.2.200", true, RecipientAccess.Relay)]
    [InlineData("a@elsewhere.example", "10.0.0.1", false, RecipientAccess.Relay)]
    [InlineData("a%elsewhere.example@hosted.example", "192.0.2.200", false, RecipientAccess.RelayDenied)]
    [InlineData("a%elsewhere.example@hosted.example", "10.0.0.1", false, RecipientAccess.Relay)]
    [InlineData("\"a@elsewhere.example\"@hosted.example", "192.0.2.200", false, RecipientAccess.RelayDenied)]
    [InlineData("\"plain\"@hosted.example", "192.0.2.200", false, RecipientAccess.Hosted)]
    [InlineData("a@localhost", "192.0.2.200", false, RecipientAccess.RelayDenied)]
    [InlineData("postmaster", "192.0.2.200", false, RecipientAccess.Hosted)]
    public void Decisions(string path, string client, bool authenticated, RecipientAccess expected)
    {
        Assert.Equal(expected, Access.Decide(Rcpt(path), IPAddress.Parse(client), authenticated));
    }

    [Fact]
    public void Localhost_and_literals_are_never_hosted_even_if_configured()
    {
        var access = new RelayAccess(["localhost", "[127.0.0.1]"], []);
        Assert.Equal(RecipientAccess.RelayDenied, access.Decide(Rcpt("a@localhost"), IPAddress.Loopback, false));
        Assert.Equal(RecipientAccess.RelayDenied, access.Decide(Rcpt("a@[127.0.0.1]"), IPAddress.Loopback, false));
    }
}
