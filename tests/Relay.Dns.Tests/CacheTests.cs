using System.Net;

namespace Relay.Dns.Tests;

public sealed class CacheTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static FakeDnsServer Server(uint ttl, TimeSpan? delay = null) => new(async (q, _, reply, _) =>
    {
        if (delay is { } d) await Task.Delay(d);
        var name = q.Questions[0].Name;
        var answer = name.StartsWith("nx", StringComparison.Ordinal)
            ? FakeDnsServer.Answer(q, rcode: DnsRcode.NxDomain, ad: true,
                authorities: [new SoaRecord("example.", 3600, "ns.example.", "h.example.", 1, 2, 3, 4, ttl)])
            : FakeDnsServer.Answer(q, [new ARecord(name, ttl, IPAddress.Parse("192.0.2.1"))], ad: true);
        await reply(answer.ToBytes());
    });

    private static DnsResolver Resolver(FakeDnsServer server, ManualTime time, int size = 100) =>
        new([new DnsServer(server.Endpoint, true)], new DnsResolverOptions { CacheSize = size, Time = time, Retries = 0 });

    [Fact]
    public async Task AnswersAreCachedForTheirTtlAndAskedAgainAfterwards()
    {
        await using var server = Server(ttl: 60);
        var time = new ManualTime();
        var resolver = Resolver(server, time);
        Assert.IsType<DnsResult.Secure>(await resolver.QueryAsync("a.example", DnsType.A));
        time.Now += TimeSpan.FromSeconds(59);
        Assert.IsType<DnsResult.Secure>(await resolver.QueryAsync("A.EXAMPLE.", DnsType.A)); // case-insensitive key
        Assert.Equal(1, server.UdpQueries);
        time.Now += TimeSpan.FromSeconds(2);
        Assert.IsType<DnsResult.Secure>(await resolver.QueryAsync("a.example", DnsType.A));
        Assert.Equal(2, server.UdpQueries);
    }

    [Fact]
    public async Task NegativeAnswersAreCachedForTheSoaNegativeTtl()
    {
        await using var server = Server(ttl: 30);
        var time = new ManualTime();
        var resolver = Resolver(server, time);
        var nx = Assert.IsType<DnsResult.NxDomain>(await resolver.QueryAsync("nx.example", DnsType.A));
        Assert.Equal(30u, nx.NegativeTtl);
        Assert.True(nx.IsSecure);
        time.Now += TimeSpan.FromSeconds(29);
        await resolver.QueryAsync("nx.example", DnsType.A);
        Assert.Equal(1, server.UdpQueries);
        time.Now += TimeSpan.FromSeconds(2);
        await resolver.QueryAsync("nx.example", DnsType.A);
        Assert.Equal(2, server.UdpQueries);
    }

    [Fact]
    public async Task CacheHoldsAtMostItsSizeDroppingTheLeastRecentlyUsed()
    {
        await using var server = Server(ttl: 600);
        var resolver = Resolver(server, new ManualTime(), size: 2);
        await resolver.QueryAsync("a.example", DnsType.A);
        await resolver.QueryAsync("b.example", DnsType.A);
        await resolver.QueryAsync("a.example", DnsType.A); // a is now the most recently used
        await resolver.QueryAsync("c.example", DnsType.A); // evicts b
        Assert.Equal(3, server.UdpQueries);
        await resolver.QueryAsync("a.example", DnsType.A);
        Assert.Equal(3, server.UdpQueries);
        await resolver.QueryAsync("b.example", DnsType.A);
        Assert.Equal(4, server.UdpQueries);
    }

    [Fact]
    public async Task ErrorsAreNotCached()
    {
        await using var server = new FakeDnsServer((q, _, reply, _) => reply(FakeDnsServer.Answer(q, rcode: DnsRcode.ServFail).ToBytes()));
        var resolver = Resolver(server, new ManualTime());
        Assert.IsType<DnsResult.Bogus>(await resolver.QueryAsync("a.example", DnsType.A));
        Assert.IsType<DnsResult.Bogus>(await resolver.QueryAsync("a.example", DnsType.A));
        Assert.Equal(2, server.UdpQueries);
    }

    [Fact]
    public async Task ConcurrentIdenticalQueriesShareOneExchange()
    {
        await using var server = Server(ttl: 0, delay: TimeSpan.FromMilliseconds(200)); // TTL 0: nothing is cached
        var resolver = Resolver(server, new ManualTime());
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => resolver.QueryAsync("a.example", DnsType.A)));
        Assert.All(results, r => Assert.IsType<DnsResult.Secure>(r));
        Assert.Equal(1, server.UdpQueries);
        Assert.Equal(1, resolver.ExchangeCount);
        // Different types are different queries.
        await Task.WhenAll(resolver.QueryAsync("a.example", DnsType.A), resolver.QueryAsync("a.example", DnsType.AAAA));
        Assert.Equal(3, server.UdpQueries);
    }

    [Fact]
    public async Task OneCallerCancellingDoesNotCancelTheSharedLookupForTheOthers()
    {
        await using var server = Server(ttl: 0, delay: TimeSpan.FromMilliseconds(300));
        var resolver = Resolver(server, new ManualTime());
        using var cts = new CancellationTokenSource();
        var impatient = resolver.QueryAsync("a.example", DnsType.A, cts.Token);
        var patient = resolver.QueryAsync("a.example", DnsType.A);
        cts.CancelAfter(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        Assert.IsType<DnsResult.Secure>(await patient);
        Assert.Equal(1, server.UdpQueries);
    }
}
