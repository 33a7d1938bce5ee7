using System.Net;
using Relay.TestKit.Dns;
using W = Relay.TestKit.Dns.StandardDnsWorld;

namespace Relay.Dns.Tests;

/// <summary>Every case of the standard world, asked through the validating unbound (trusted).</summary>
[Collection(DnsWorldCollection.Name)]
public sealed class WorldStatusTests(DnsWorldFixture fixture)
{
    private readonly DnsWorld _world = fixture.World;

    private DnsResolver Resolver(int payload = 1232) => new(
        [new DnsServer(_world.Resolver, Trusted: true)],
        new DnsResolverOptions { QueryTimeout = TimeSpan.FromSeconds(3), Retries = 1, UdpPayloadSize = payload, CacheSize = 0 });

    private async Task<T> Expect<T>(string name, DnsType type, DnsResolver? resolver = null) where T : DnsResult
    {
        var result = await (resolver ?? Resolver()).QueryAsync(name, type);
        Assert.True(result is T, $"{name} {type}: expected {typeof(T).Name}, got {result}\n--- unbound log ---\n{Tail(_world.ResolverLog)}");
        return (T)result;
    }

    private static string Tail(string log) => log.Length > 3000 ? log[^3000..] : log;

    [Fact]
    public async Task SecureMxIsSecureWithTheMxRecord()
    {
        var r = await Expect<DnsResult.Secure>(W.SecureDomain, DnsType.MX);
        var mx = Assert.IsType<MxRecord>(Assert.Single(r.Records));
        Assert.Equal((10, W.SecureMx), (mx.Preference, mx.Exchange));
        Assert.Equal(W.Ttl, r.Ttl);
        Assert.False(r.Chain.IsAlias);
        Assert.Equal(DnsRcode.NoError, r.Rcode);
    }

    [Fact]
    public async Task SecureAddressesAreSecure()
    {
        var a = await Expect<DnsResult.Secure>(W.SecureMx, DnsType.A);
        Assert.Equal(IPAddress.Parse(W.SecureMxA), Assert.IsType<ARecord>(Assert.Single(a.Records)).Address);
        var aaaa = await Expect<DnsResult.Secure>(W.SecureMx, DnsType.AAAA);
        Assert.Equal(IPAddress.Parse(W.SecureMxAaaa), Assert.IsType<AaaaRecord>(Assert.Single(aaaa.Records)).Address);
    }

    [Fact]
    public async Task SecureTlsaIsSecureInPresentationForm()
    {
        var r = await Expect<DnsResult.Secure>(W.SecureMxTlsa, DnsType.TLSA);
        var tlsa = Assert.IsType<TlsaRecord>(Assert.Single(r.Records));
        Assert.Equal("3 1 1 " + W.TlsaHex, tlsa.ToString());
    }

    [Theory]
    [InlineData(W.SecureMx, "10 1 2 192.0.2.25 " + W.IpseckeyPublicKey)]
    [InlineData(W.IpseckeyNoGateway, "10 0 2 . " + W.IpseckeyPublicKey)]
    [InlineData(W.IpseckeyIPv6Gateway, "10 2 2 2001:db8::25 " + W.IpseckeyPublicKey)]
    [InlineData(W.IpseckeyNameGateway, "10 3 2 mx.secure.example. " + W.IpseckeyPublicKey)]
    public async Task IpseckeyOfEveryGatewayTypeIsSecure(string name, string presentation)
    {
        var r = await Expect<DnsResult.Secure>(name, DnsType.IPSECKEY);
        Assert.Equal(presentation, Assert.IsType<IpseckeyRecord>(Assert.Single(r.Records)).ToString());
    }

    [Fact]
    public async Task InsecureDelegationGivesInsecureAnswers()
    {
        var mx = await Expect<DnsResult.Insecure>(W.InsecureDomain, DnsType.MX);
        Assert.Equal(W.InsecureMx, Assert.IsType<MxRecord>(Assert.Single(mx.Records)).Exchange);
        var tlsa = await Expect<DnsResult.Insecure>(W.InsecureMxTlsa, DnsType.TLSA);
        Assert.Equal("3 1 1 " + W.TlsaHex, Assert.Single(tlsa.Records).ToString());
        await Expect<DnsResult.Insecure>(W.InsecureMx, DnsType.A);
    }

    [Fact]
    public async Task BrokenSignaturesAreBogusWithTheExtendedErrorCode()
    {
        var mx = await Expect<DnsResult.Bogus>(W.BogusDomain, DnsType.MX);
        Assert.Equal(DnsRcode.ServFail, mx.Rcode);
        Assert.Equal((ushort)6, mx.ExtendedErrorCode); // RFC 8914 "DNSSEC Bogus" (unbound 1.17, ede: yes)
        Assert.Contains("signature", mx.ExtendedErrorText);
        await Expect<DnsResult.Bogus>(W.BogusMx, DnsType.A);
    }

    [Fact]
    public async Task TlsaWithBrokenSignatureIsBogusWhileTheHostStaysSecure()
    {
        await Expect<DnsResult.Bogus>(W.BadTlsaName, DnsType.TLSA);
        await Expect<DnsResult.Secure>(W.BadTlsaHost, DnsType.A);
    }

    [Fact]
    public async Task SecureCnameChainToTheMxHostIsSecureWithEveryLink()
    {
        var r = await Expect<DnsResult.Secure>(W.SecureAlias, DnsType.A);
        Assert.Equal(IPAddress.Parse(W.SecureMxA), Assert.IsType<ARecord>(Assert.Single(r.Records)).Address);
        Assert.Equal([W.SecureAlias, W.SecureAlias2, W.SecureMx], r.Chain.Names);
        Assert.True(r.Chain.AllLinksSecure);
        Assert.Equal(W.SecureMx, r.Chain.ExpandedName);
    }

    [Fact]
    public async Task ChainIntoAnInsecureZoneIsInsecureButItsSignedLinkIsSecure()
    {
        var r = await Expect<DnsResult.Insecure>(W.AliasIntoInsecure, DnsType.A);
        Assert.Equal([W.AliasIntoInsecure, W.InsecureMx], r.Chain.Names);
        Assert.True(Assert.Single(r.Chain.Links).Secure);
    }

    [Fact]
    public async Task ChainOutOfAnInsecureZoneIsInsecureAndSoIsTheLink()
    {
        var r = await Expect<DnsResult.Insecure>(W.AliasFromInsecure, DnsType.A);
        Assert.Equal(W.SecureMx, r.Chain.ExpandedName);
        Assert.False(r.Chain.AllLinksSecure);
    }

    [Fact]
    public async Task AnswerLargerThan512OctetsArrivesOverTcp()
    {
        var r = await Expect<DnsResult.Secure>(W.BigTxt, DnsType.TXT, Resolver(payload: 512));
        Assert.True(r.ViaTcp);
        Assert.Equal(W.BigTxtCount, r.Records.Count);
        Assert.Contains(r.RecordsOf<TxtRecord>(), t => t.Text.StartsWith("record 11 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NxDomainAndNoDataCarryTheirSecurityAndTheSoaNegativeTtl()
    {
        var nx = await Expect<DnsResult.NxDomain>(W.SecureNxDomain, DnsType.A);
        Assert.True(nx.IsSecure);
        Assert.Equal(W.Ttl, nx.NegativeTtl);
        var nodata = await Expect<DnsResult.NoData>(W.SecureNoData, DnsType.TXT);
        Assert.True(nodata.IsSecure);
        Assert.Equal(W.Ttl, nodata.NegativeTtl);

        var inx = await Expect<DnsResult.NxDomain>(W.InsecureNxDomain, DnsType.A);
        Assert.False(inx.IsSecure);
        var inodata = await Expect<DnsResult.NoData>(W.InsecureNoData, DnsType.TXT);
        Assert.False(inodata.IsSecure);
        Assert.Equal(W.Ttl, inodata.NegativeTtl);
    }

    [Fact]
    public async Task AdBitFromAnUntrustedServerIsNeverSecure()
    {
        var untrusted = new DnsResolver([new DnsServer(_world.Resolver, Trusted: false)], new DnsResolverOptions { CacheSize = 0 });
        Assert.IsType<DnsResult.Insecure>(await untrusted.QueryAsync(W.SecureDomain, DnsType.MX));
        Assert.IsType<DnsResult.Insecure>(await untrusted.QueryAsync(W.SecureMxTlsa, DnsType.TLSA));
        var nx = Assert.IsType<DnsResult.NxDomain>(await untrusted.QueryAsync(W.SecureNxDomain, DnsType.A));
        Assert.False(nx.IsSecure);
        var chain = Assert.IsType<DnsResult.Insecure>(await untrusted.QueryAsync(W.SecureAlias, DnsType.A));
        Assert.False(chain.Chain.AllLinksSecure);
        // SERVFAIL from a server we do not trust to validate is a plain error, not "bogus".
        var failed = Assert.IsType<DnsResult.Error>(await untrusted.QueryAsync(W.BadTlsaName, DnsType.TLSA));
        Assert.Equal(DnsErrorKind.ServerFailure, failed.Kind);
    }

    [Fact]
    public async Task AuthoritativeServerMarkedTrustedStillGivesNoSecureAnswerBecauseItSetsNoAdBit()
    {
        var nsd = new DnsResolver([new DnsServer(_world.Authoritative, Trusted: true)], new DnsResolverOptions { CacheSize = 0 });
        var r = await nsd.QueryAsync(W.SecureMx, DnsType.A);
        Assert.IsType<DnsResult.Insecure>(r);
    }
}
