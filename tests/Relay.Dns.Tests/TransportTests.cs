using System.Diagnostics;
using System.Net;
using Relay.Dns.Wire;

namespace Relay.Dns.Tests;

/// <summary>Answer checks, TC→TCP, deadlines and failover, against scripted servers on real sockets.</summary>
public sealed class TransportTests
{
    private static readonly ARecord Good = new("host.example.", 60, IPAddress.Parse("192.0.2.1"));
    private static readonly ARecord Forged = new("host.example.", 60, IPAddress.Parse("203.0.113.66"));

    private static DnsResolver Resolver(TimeSpan? timeout = null, int retries = 0, params (IPEndPoint, bool)[] servers) => new(
        servers.Select(s => new DnsServer(s.Item1, s.Item2)).ToArray(),
        new DnsResolverOptions { QueryTimeout = timeout ?? TimeSpan.FromSeconds(2), Retries = retries, CacheSize = 0 });

    [Fact]
    public async Task ForgedAnswersWithWrongIdQuestionOrSourcePortAreIgnored()
    {
        await using var server = new FakeDnsServer(async (query, _, reply, replyFromOther) =>
        {
            await reply(new DnsMessage
            {
                Id = (ushort)(query.Id ^ 1), IsResponse = true, AuthenticData = true, Questions = query.Questions, Answers = [Forged],
            }.ToBytes());
            await reply(new DnsMessage
            {
                Id = query.Id, IsResponse = true, AuthenticData = true,
                Questions = [new DnsQuestion("other.example.", DnsType.A)], Answers = [Forged],
            }.ToBytes());
            await replyFromOther(FakeDnsServer.Answer(query, [Forged], ad: true).ToBytes());
            await Task.Delay(50);
            await reply(FakeDnsServer.Answer(query, [Good], ad: true).ToBytes());
        });
        var result = await Resolver(null, 0, (server.Endpoint, true)).QueryAsync("host.example", DnsType.A);
        var secure = Assert.IsType<DnsResult.Secure>(result);
        Assert.Equal("192.0.2.1", Assert.Single(secure.Records).ToString());
    }

    [Fact]
    public async Task TruncatedUdpAnswerIsRetriedOverTcp()
    {
        await using var server = new FakeDnsServer(
            (query, _, reply, _) => reply(FakeDnsServer.Answer(query, truncated: true).ToBytes()),
            query => FakeDnsServer.Answer(query, [Good, Good], ad: false));
        var result = await Resolver(null, 0, (server.Endpoint, true)).QueryAsync("host.example", DnsType.A);
        var insecure = Assert.IsType<DnsResult.Insecure>(result);
        Assert.True(insecure.ViaTcp);
        Assert.Equal(2, insecure.Records.Count);
        Assert.Equal((1, 1), (server.UdpQueries, server.TcpQueries));
    }

    [Fact]
    public async Task SilentServerTimesOutWithinTheDeadlineAndRetriesAreCounted()
    {
        await using var server = new FakeDnsServer((_, _, _, _) => Task.CompletedTask);
        var watch = Stopwatch.StartNew();
        var result = await Resolver(TimeSpan.FromMilliseconds(200), 2, (server.Endpoint, true)).QueryAsync("host.example", DnsType.A);
        var error = Assert.IsType<DnsResult.Error>(result);
        Assert.Equal(DnsErrorKind.Timeout, error.Kind);
        Assert.Null(error.Server);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(550), TimeSpan.FromSeconds(3));
        Assert.Equal(3, server.UdpQueries);
    }

    [Fact]
    public async Task NextServerAnswersWhenTheFirstIsSilentOrRefuses()
    {
        await using var silent = new FakeDnsServer((_, _, _, _) => Task.CompletedTask);
        await using var refusing = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q, rcode: DnsRcode.Refused).ToBytes()));
        await using var good = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q, [Good], ad: true).ToBytes()));
        var resolver = Resolver(TimeSpan.FromMilliseconds(200), 0, (silent.Endpoint, true), (refusing.Endpoint, true), (good.Endpoint, false));
        var result = await resolver.QueryAsync("host.example", DnsType.A);
        // AD=1 from the untrusted third server: an answer, but not a secure one.
        Assert.IsType<DnsResult.Insecure>(result);
        Assert.Equal(good.Endpoint, result.Server!.Endpoint);
    }

    [Fact]
    public async Task RefusedEverywhereIsARefusedError()
    {
        await using var refusing = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q, rcode: DnsRcode.Refused).ToBytes()));
        var result = await Resolver(null, 3, (refusing.Endpoint, true)).QueryAsync("host.example", DnsType.A);
        var error = Assert.IsType<DnsResult.Error>(result);
        Assert.Equal((DnsErrorKind.Refused, DnsRcode.Refused), (error.Kind, error.Rcode));
        Assert.Equal(1, refusing.UdpQueries); // a refusal is not retried against the same server
    }

    [Fact]
    public async Task ServfailFromTrustedServerIsBogusWithItsExtendedError()
    {
        var ede = new DnsEdns { Options = [new DnsEdnsOption(DnsEdns.ExtendedErrorOption, [0, 7, (byte)'x'])] };
        await using var server = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q, rcode: DnsRcode.ServFail, edns: ede).ToBytes()));
        var bogus = Assert.IsType<DnsResult.Bogus>(await Resolver(null, 0, (server.Endpoint, true)).QueryAsync("host.example", DnsType.TLSA));
        Assert.Equal((ushort)7, bogus.ExtendedErrorCode);
        Assert.Equal("x", bogus.ExtendedErrorText);
        Assert.Equal("bogus", bogus.Status);
    }

    [Fact]
    public async Task MalformedAnswerWithOurIdIsAMalformedError()
    {
        await using var server = new FakeDnsServer((q, _, reply, _) => reply([(byte)(q.Id >> 8), (byte)q.Id, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12]));
        var error = Assert.IsType<DnsResult.Error>(await Resolver(null, 0, (server.Endpoint, true)).QueryAsync("host.example", DnsType.A));
        Assert.Equal(DnsErrorKind.Malformed, error.Kind);
    }

    [Fact]
    public async Task CnameChainLoopIsAnErrorNotAHang()
    {
        await using var server = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q,
            [new CnameRecord("a.example.", 60, "b.example."), new CnameRecord("b.example.", 60, "a.example.")], ad: true).ToBytes()));
        var error = Assert.IsType<DnsResult.Error>(await Resolver(null, 0, (server.Endpoint, true)).QueryAsync("a.example", DnsType.A));
        Assert.Equal(DnsErrorKind.Malformed, error.Kind);
    }

    [Fact]
    public async Task ChainThatStopsAtAnAliasIsFollowedWithAnotherQuery()
    {
        await using var server = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q,
            DnsName.Equal(q.Questions[0].Name, "a.example.")
                ? [new CnameRecord("a.example.", 60, "b.example.")]
                : [new ARecord("b.example.", 30, IPAddress.Parse("192.0.2.7"))], ad: true).ToBytes()));
        var secure = Assert.IsType<DnsResult.Secure>(await Resolver(null, 0, (server.Endpoint, true)).QueryAsync("a.example", DnsType.A));
        Assert.Equal(["a.example.", "b.example."], secure.Chain.Names);
        Assert.True(secure.Chain.AllLinksSecure);
        Assert.Equal(30u, secure.Ttl);
        Assert.Equal(2, server.UdpQueries);
    }

    [Fact]
    public async Task BadNamesAndPseudoTypesAreBadQueriesWithoutTraffic()
    {
        await using var server = new FakeDnsServer((_, _, _, _) => Task.CompletedTask);
        var resolver = Resolver(null, 0, (server.Endpoint, true));
        Assert.Equal(DnsErrorKind.BadQuery, Assert.IsType<DnsResult.Error>(await resolver.QueryAsync("a..b", DnsType.A)).Kind);
        Assert.Equal(DnsErrorKind.BadQuery, Assert.IsType<DnsResult.Error>(await resolver.QueryAsync("a.example", DnsType.OPT)).Kind);
        Assert.Equal(0, server.UdpQueries);
    }

    [Fact]
    public async Task CancellationStopsTheCallerPromptly()
    {
        await using var server = new FakeDnsServer((_, _, _, _) => Task.CompletedTask);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Resolver(TimeSpan.FromSeconds(5), 0, (server.Endpoint, true)).QueryAsync("host.example", DnsType.A, cts.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task BogusFromATrustedValidatorIsNotReplacedByAnUntrustedAnswer()
    {
        await using var validator = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q, rcode: DnsRcode.ServFail).ToBytes()));
        await using var other = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q, [Good]).ToBytes()));
        var result = await Resolver(null, 0, (validator.Endpoint, true), (other.Endpoint, false)).QueryAsync("host.example", DnsType.A);
        Assert.IsType<DnsResult.Bogus>(result);
        Assert.Equal(0, other.UdpQueries);
    }

    [Fact]
    public async Task ReferralFromANonRecursiveServerIsAnErrorNotNoData()
    {
        await using var server = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q,
            authorities: [new NsRecord("example.", 60, "ns.example.")]).ToBytes()));
        var error = Assert.IsType<DnsResult.Error>(await Resolver(null, 0, (server.Endpoint, true)).QueryAsync("host.example", DnsType.A));
        Assert.Equal(DnsErrorKind.ServerFailure, error.Kind);
    }
}
