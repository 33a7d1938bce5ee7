using System.Net;
using Relay.TestKit.Dns;

namespace Relay.Dns.Tests;

/// <summary>The kit itself: custom worlds, several at once, cleaned up on dispose.</summary>
public sealed class WorldBuilderTests
{
    private static DnsWorldBuilder SmallWorld(string address)
    {
        var b = new DnsWorldBuilder();
        b.Zone("shop.test.", signed: true)
            .Add("@ MX 5 mail", $"mail A {address}", "broken TXT \"x\"")
            .CorruptSignature("broken", "TXT");
        return b;
    }

    [Fact]
    public async Task TwoCustomWorldsRunSideBySideOnTheirOwnAddressesAndDisposeCleanly()
    {
        var worlds = await Task.WhenAll(SmallWorld("127.1.1.1").StartAsync(), SmallWorld("127.2.2.2").StartAsync());
        try
        {
            Assert.NotEqual(worlds[0].Resolver.Address, worlds[1].Resolver.Address);
            Assert.NotEqual(worlds[0].Directory, worlds[1].Directory);
            for (var i = 0; i < 2; i++)
            {
                var resolver = new DnsResolver([new DnsServer(worlds[i].Resolver, Trusted: true)]);
                var a = Assert.IsType<DnsResult.Secure>(await resolver.QueryAsync("mail.shop.test", DnsType.A));
                Assert.Equal(IPAddress.Parse(i == 0 ? "127.1.1.1" : "127.2.2.2"), Assert.IsType<ARecord>(Assert.Single(a.Records)).Address);
                Assert.IsType<DnsResult.Bogus>(await resolver.QueryAsync("broken.shop.test", DnsType.TXT));
                // nsd answers authoritatively but never with AD.
                var direct = new DnsResolver([new DnsServer(worlds[i].Authoritative, Trusted: true)]);
                Assert.IsType<DnsResult.Insecure>(await direct.QueryAsync("shop.test", DnsType.MX));
            }
        }
        finally
        {
            foreach (var w in worlds) await w.DisposeAsync();
        }
        foreach (var w in worlds)
        {
            Assert.False(Directory.Exists(w.Directory));
            var after = new DnsResolver([new DnsServer(w.Resolver, Trusted: true)],
                new DnsResolverOptions { QueryTimeout = TimeSpan.FromMilliseconds(300), Retries = 0, CacheSize = 0 });
            Assert.IsType<DnsResult.Error>(await after.QueryAsync("mail.shop.test", DnsType.A));
        }
    }

    [Fact]
    public void CorruptingAnUnsignedZoneIsRejectedUpFront()
    {
        var b = new DnsWorldBuilder();
        Assert.Throws<InvalidOperationException>(() => b.Zone("plain.test", signed: false).CorruptSignature("@", "MX"));
    }
}
