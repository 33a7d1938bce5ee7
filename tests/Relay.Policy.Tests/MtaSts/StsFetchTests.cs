using Relay.Policy.MtaSts;

namespace Relay.Policy.Tests.MtaSts;

/// <summary>
/// Discovery and the policy fetch against the real thing: TXT records from nsd + unbound, policies over HTTPS from
/// Kestrel on loopback, its certificates trusted only through the test CA given as Relay:Tls:TrustAnchors.
/// </summary>
public sealed class StsFetchTests(StsWorldFixture world) : IClassFixture<StsWorldFixture>
{
    private StsPolicyFetcher Fetcher(TimeSpan? timeout = null) =>
        new(world.Resolver, new StsFetchOptions(world.Port, world.TrustAnchors) { Timeout = timeout ?? TimeSpan.FromSeconds(10) });

    private static CancellationToken Deadline => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    [Fact]
    public async Task Discovery_reads_the_id_of_the_one_sts_record()
    {
        var found = await new StsDiscoveryLookup(world.Resolver).DiscoverAsync(StsWorldFixture.Domain("good"), Deadline);
        Assert.Equal(new StsDiscovery.Available("idgood1"), found);
    }

    [Theory]
    [InlineData("absent", "no v=STSv1")]
    [InlineData("twice", "2 v=STSv1 TXT records")]
    [InlineData("nothere", "has no TXT record")]
    public async Task Discovery_without_exactly_one_sts_record_finds_no_policy(string label, string why)
    {
        var found = Assert.IsType<StsDiscovery.NotAvailable>(await new StsDiscoveryLookup(world.Resolver).DiscoverAsync(StsWorldFixture.Domain(label), Deadline));
        Assert.Contains(why, found.Reason);
    }

    [Fact]
    public async Task An_enforce_policy_is_fetched_over_https_trusted_through_the_anchors()
    {
        var fetched = Assert.IsType<StsFetch.Fetched>(await Fetcher().FetchAsync(StsWorldFixture.Domain("good"), Deadline));
        Assert.Equal(StsMode.Enforce, fetched.Policy.Mode);
        Assert.Equal(["mx.good.sts.example", "*.backup.sts.example"], fetched.Policy.Mx);
        Assert.Equal(TimeSpan.FromDays(1), fetched.Policy.MaxAge);
    }

    [Fact]
    public async Task Without_the_anchors_the_same_server_is_sts_webpki_invalid()
    {
        var fetcher = new StsPolicyFetcher(world.Resolver, new StsFetchOptions(world.Port, TrustAnchors: null));
        var failed = Assert.IsType<StsFetch.Failed>(await fetcher.FetchAsync(StsWorldFixture.Domain("good"), Deadline));
        Assert.Equal(TlsRptResult.StsWebpkiInvalid, failed.ResultType);
    }

    [Theory]
    [InlineData("wrongname", TlsRptResult.StsWebpkiInvalid, "NameMismatch")]
    [InlineData("selfsigned", TlsRptResult.StsWebpkiInvalid, "ChainInvalid")]
    [InlineData("redirect", TlsRptResult.StsPolicyFetchError, "redirects are not followed")]
    [InlineData("notfound", TlsRptResult.StsPolicyFetchError, "404")]
    [InlineData("big", TlsRptResult.StsPolicyFetchError, "more than 65536 bytes")]
    [InlineData("invalid", TlsRptResult.StsPolicyInvalid, "no max_age")]
    [InlineData("html", TlsRptResult.StsPolicyInvalid, "text/html")]
    [InlineData("nothere", TlsRptResult.StsPolicyFetchError, "has no address")]
    public async Task Each_failure_gets_its_result_type(string label, TlsRptResult type, string why)
    {
        var failed = Assert.IsType<StsFetch.Failed>(await Fetcher().FetchAsync(StsWorldFixture.Domain(label), Deadline));
        Assert.Equal(type, failed.ResultType);
        Assert.Contains(why, failed.Reason);
    }

    [Fact]
    public async Task A_server_slower_than_the_limit_is_a_fetch_error_within_the_limit()
    {
        var started = DateTime.UtcNow;
        var failed = Assert.IsType<StsFetch.Failed>(await Fetcher(TimeSpan.FromSeconds(1)).FetchAsync(StsWorldFixture.Domain("slow"), Deadline));
        Assert.Equal(TlsRptResult.StsPolicyFetchError, failed.ResultType);
        Assert.Contains("within 1s", failed.Reason);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4), "the time limit was not applied");
    }
}
