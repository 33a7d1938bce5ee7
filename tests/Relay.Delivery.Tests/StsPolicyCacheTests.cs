using Npgsql;
using Relay.Delivery.Planning;
using Relay.Policy;
using Relay.Policy.MtaSts;
using Relay.TestKit.Postgres;

namespace Relay.Delivery.Tests;

/// <summary>The MTA-STS policy cache on PostgreSQL (sts_policies, migration 0005): what delivery processes share.</summary>
public sealed class StsPolicyCacheTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_saved_policy_comes_back_as_it_was_and_a_second_save_replaces_it()
    {
        var cache = new DatabaseStsPolicyCache(fixture.Database);
        var fetchedAt = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        var first = new CachedStsPolicy("roundtrip.example", "id1", new StsPolicy(StsMode.Enforce, ["mx.roundtrip.example", "*.backup.example"], TimeSpan.FromDays(7)), fetchedAt);
        var second = new CachedStsPolicy("roundtrip.example", "id2", new StsPolicy(StsMode.None, [], TimeSpan.FromSeconds(86400)), fetchedAt.AddHours(1));

        Assert.Null(await cache.GetAsync("roundtrip.example", None));
        await cache.SaveAsync(first, None);
        var read = await cache.GetAsync("roundtrip.example", None);
        Assert.Equal(first, read);
        Assert.Equal(fetchedAt.AddDays(7), read!.Expires);

        await cache.SaveAsync(second, None);
        Assert.Equal(second, await cache.GetAsync("roundtrip.example", None));
    }

    [Fact]
    public async Task The_fetched_policy_lines_are_cached_with_it_and_a_row_from_before_migration_0010_has_none()
    {
        var cache = new DatabaseStsPolicyCache(fixture.Database);
        string[] lines = ["version: STSv1", "mode: enforce", "mx: mx.lines.example", "x-ext: kept", "max_age: 86400"];
        var policy = new StsPolicy(StsMode.Enforce, ["mx.lines.example"], TimeSpan.FromDays(1)) { Lines = lines };
        await cache.SaveAsync(new CachedStsPolicy("lines.example", "id1", policy, DateTimeOffset.UtcNow), None);
        Assert.Equal(lines, (await cache.GetAsync("lines.example", None))!.Policy.Lines);

        await fixture.Database.StsPolicies.SaveAsync(new Relay.Db.StsPolicyRow("old.example", "id1", "testing", ["mx.old.example"], 60, DateTimeOffset.UtcNow), None);
        var old = (await cache.GetAsync("old.example", None))!.Policy;
        Assert.Null(old.Lines);
        Assert.Equal(["version: STSv1", "mode: testing", "mx: mx.old.example", "max_age: 60"], Relay.Policy.TlsRpt.TlsRptPolicy.StsLines(old));
    }

    [Theory]
    [InlineData("id-with-dash", "enforce", 60)]
    [InlineData("id1", "Enforce", 60)]
    [InlineData("id1", "enforce", 31557601)]
    public async Task The_schema_refuses_what_the_parsers_would_never_produce(string id, string mode, long maxAge)
    {
        var row = new Relay.Db.StsPolicyRow("schema.example", id, mode, ["mx.schema.example"], maxAge, DateTimeOffset.UtcNow);
        var e = await Assert.ThrowsAsync<PostgresException>(() => fixture.Database.StsPolicies.SaveAsync(row, None));
        Assert.Equal(PostgresErrorCodes.CheckViolation, e.SqlState);
    }
}
