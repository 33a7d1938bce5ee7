using Npgsql;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.Db.Tests;

/// <summary>
/// The connection settings RelayDatabase adds to the operator's connection string, and the plan cache failures they and
/// the writers' statements prevent: a statement prepared while its table was small kept a sequential-scan plan, or a
/// scan of a whole index, after the table had grown.
/// </summary>
public class PoolDefaultsTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public void Pool_defaults_turn_off_the_reset_turn_on_auto_prepare_and_plan_each_execution_but_keep_what_the_operator_wrote()
    {
        var defaults = new NpgsqlConnectionStringBuilder(RelayDatabase.WithPoolDefaults("Host=/run/pg;Database=relay"));
        Assert.True(defaults.NoResetOnClose);
        Assert.Equal(32, defaults.MaxAutoPrepare);
        Assert.Equal("-c plan_cache_mode=force_custom_plan", defaults.Options);
        Assert.Equal("relay", defaults.Database);

        var operators = new NpgsqlConnectionStringBuilder(RelayDatabase.WithPoolDefaults(
            "Host=/run/pg;Database=relay;No Reset On Close=false;maxautoprepare=0;Options=-c search_path=relay"));
        Assert.False(operators.NoResetOnClose);
        Assert.Equal(0, operators.MaxAutoPrepare);
        Assert.Equal("-c search_path=relay -c plan_cache_mode=force_custom_plan", operators.Options);

        var ownPlanMode = new NpgsqlConnectionStringBuilder(
            RelayDatabase.WithPoolDefaults("Host=/run/pg;Options=-c plan_cache_mode=auto"));
        Assert.Equal("-c plan_cache_mode=auto", ownPlanMode.Options);
    }

    [Fact]
    public async Task A_statement_prepared_on_a_small_table_uses_the_index_once_the_table_has_grown()
    {
        // auto (PostgreSQL's default) is the control: the same steps keep the generic plan made for the small table.
        Assert.Contains("Seq Scan", await PlanAfterGrowthAsync(RelayDatabase.WithPoolDefaults(fixture.ConnectionString + ";Options=-c plan_cache_mode=auto"), "auto"));
        var plan = await PlanAfterGrowthAsync(RelayDatabase.WithPoolDefaults(fixture.ConnectionString), "defaults");
        Assert.Contains("Index Scan", plan);
        Assert.DoesNotContain("Seq Scan on plan_probe", plan);
    }

    [Fact]
    public async Task A_record_update_finds_its_rows_by_key_when_its_plan_was_made_from_stale_statistics()
    {
        var connectionString = RelayDatabase.WithPoolDefaults(fixture.ConnectionString);
        // The control: the join alone. The generic plan scans the whole primary key index and filters the ids.
        var control = await PlanFromStaleStatisticsAsync(connectionString, "join_only", "");
        Assert.Contains("Join Filter: (p.id = u.id)", control);
        Assert.DoesNotContain("Index Cond", control);
        // With the ids repeated as `= any(...)` (AttemptStatement, InboundSessionStore) the index is searched for them.
        var plan = await PlanFromStaleStatisticsAsync(connectionString, "with_any", "and p.id = any($1)");
        Assert.Contains("Index Cond: (id = ANY ($1))", plan);
    }

    /// <summary>
    /// A truncated queue refilled by a burst, as PostgreSQL sees it (bench/pg-profile.sh ROUNDS=3): the last analyze saw
    /// every recipient delivered, the generic plan is made in a group commit's transaction while 500 are queued, and
    /// then 20,000 are. Returns that plan for the shape of the record's recipient-state update (a join with unnest of
    /// ids, filtered on state) with <paramref name="extraCondition"/> added.
    /// </summary>
    private static async Task<string> PlanFromStaleStatisticsAsync(string connectionString, string name, string extraCondition)
    {
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using var connection = await source.OpenConnectionAsync();
        var table = $"stale_probe_{name}";
        const string ids = "'{1,2,3}', '{a,b,c}'";
        // `note` stands for recipients' other columns: row width is part of the cost that picks the plan. Each statement
        // is its own round trip: several in one command would share one implicit transaction.
        string[] steps =
        [
            $"drop table if exists {table}",
            $"create table {table} (id bigint primary key, state text not null, note text) with (autovacuum_enabled = false)",
            $"insert into {table} select g, 'delivered' from generate_series(1, 20000) g",
            $"analyze {table}",
            $"truncate {table}",
            $"insert into {table} select g, 'queued' from generate_series(1, 500) g",
            "begin", "set local enable_seqscan = off", "set local plan_cache_mode = force_generic_plan",
            $"""
            prepare stale_{name}(bigint[], text[]) as update {table} p set state = u.s from unnest($1, $2) u(id, s)
                where p.id = u.id {extraCondition} and p.state not in ('delivered', 'bounced')
            """,
            $"explain execute stale_{name}({ids})",
            "commit",
            $"insert into {table} select g, 'queued' from generate_series(501, 20000) g",
            "begin", "set local enable_seqscan = off", "set local plan_cache_mode = force_generic_plan",
        ];
        foreach (var step in steps) await LinesAsync(connection, step);
        var plan = await LinesAsync(connection, $"explain execute stale_{name}({ids})");
        foreach (var step in new[] { "commit", $"deallocate stale_{name}", $"drop table {table}" }) await LinesAsync(connection, step);
        return string.Join('\n', plan).Replace(table, "stale_probe", StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="sql"/> and returns the first column of every row it returned.</summary>
    private static async Task<List<string>> LinesAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        do
            while (await reader.ReadAsync())
                if (reader.FieldCount > 0 && !reader.IsDBNull(0)) lines.Add(reader.GetValue(0).ToString()!);
        while (await reader.NextResultAsync());
        return lines;
    }

    /// <summary>
    /// The shape of the recipient-state update (a join with unnest of ids): prepared and run on a table of 10 rows until
    /// PostgreSQL may pick its generic plan, then the table grows to 50,000 rows (autovacuum off for it, so no analyze
    /// replaces the plan meanwhile) and the plan of the next execution is returned.
    /// </summary>
    private static async Task<string> PlanAfterGrowthAsync(string connectionString, string name)
    {
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using var connection = await source.OpenConnectionAsync();
        var table = $"plan_probe_{name}";
        Task<List<string>> RunAsync(string sql) => LinesAsync(connection, sql);
        await RunAsync($"drop table if exists {table}; create table {table} (id bigint primary key, v int not null) with (autovacuum_enabled = false)");
        await RunAsync($"insert into {table} select g, 0 from generate_series(1, 10) g; analyze {table}");
        await RunAsync($"prepare probe_{name}(bigint[]) as update {table} p set v = p.v + 1 from unnest($1) u(id) where p.id = u.id");
        for (var i = 0; i < 8; i++) await RunAsync($"execute probe_{name}('{{1,2,3}}')");
        await RunAsync($"insert into {table} select g, 0 from generate_series(11, 50000) g");
        var plan = string.Join('\n', await RunAsync($"explain execute probe_{name}('{{1,2,3}}')"));
        await RunAsync($"deallocate probe_{name}; drop table {table}");
        return plan.Replace(table, "plan_probe", StringComparison.Ordinal);
    }
}
