using Npgsql;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.Db.Tests;

public class MigrationTests
{
    [Fact]
    public async Task Migrations_apply_on_an_empty_database_and_a_second_run_applies_nothing()
    {
        var cluster = await PostgresCluster.SharedAsync();
        await using var db = new RelayDatabase(await cluster.CreateDatabaseAsync("mig"));

        var first = await db.Migrator().ApplyAsync();
        var second = await db.Migrator().ApplyAsync();

        Assert.Equal(Migrator.Embedded().Select(m => m.Version), first.Select(m => m.Version));
        Assert.NotEmpty(first);
        Assert.Empty(second);
        Assert.Equal(Migrator.Embedded().Select(m => m.Version).ToHashSet(), await db.Migrator().AppliedVersionsAsync());
    }

    [Fact]
    public async Task Two_processes_migrating_at_once_apply_each_migration_exactly_once()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var connectionString = await cluster.CreateDatabaseAsync("migrace");
        await using var a = new RelayDatabase(connectionString);
        await using var b = new RelayDatabase(connectionString);

        var results = await Task.WhenAll(a.Migrator().ApplyAsync(), b.Migrator().ApplyAsync());

        Assert.Equal(Migrator.Embedded().Count, results.Sum(r => r.Count));
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from schema_migrations", connection);
        Assert.Equal((long)Migrator.Embedded().Count, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public void Migration_files_are_numbered_and_named()
    {
        Assert.Equal(1, Migration.FromFileName("0001_initial.sql", "").Version);
        Assert.Equal("initial", Migration.FromFileName("0001_initial.sql", "").Name);
        Assert.Throws<InvalidOperationException>(() => Migration.FromFileName("initial.sql", ""));
        Assert.Throws<InvalidOperationException>(() => Migration.FromFileName("0002_x.txt", ""));
    }

    [Fact]
    public async Task Schema_refuses_cleartext_without_a_reason()
    {
        var cluster = await PostgresCluster.SharedAsync();
        await using var db = new RelayDatabase(await cluster.CreateDatabaseAsync("chk"));
        await db.Migrator().ApplyAsync();

        var attempt = new AttemptRecord("example.net", "mx.example.net", "192.0.2.7", 25, DateTimeOffset.UtcNow, TimeSpan.Zero,
            "quit", "250 ok", "may", "cleartext", "none", Reason: null);

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.Attempts.RecordAsync(attempt, [], CancellationToken.None));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
    }

    [Fact]
    public async Task Schema_refuses_a_transport_word_outside_the_vocabulary()
    {
        var cluster = await PostgresCluster.SharedAsync();
        await using var db = new RelayDatabase(await cluster.CreateDatabaseAsync("chk"));
        await db.Migrator().ApplyAsync();

        var attempt = new AttemptRecord("example.net", "mx.example.net", "192.0.2.7", 25, DateTimeOffset.UtcNow, TimeSpan.Zero,
            "quit", "250 ok", "may", "secure", "pkix", null, TlsVersion: "Tls13");

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.Attempts.RecordAsync(attempt, [], CancellationToken.None));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
    }
}
