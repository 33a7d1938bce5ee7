using Npgsql;
using Relay.Db;
using Relay.TestKit.Postgres;

namespace Relay.Db.Tests;

/// <summary>
/// The connection settings RelayDatabase adds to the operator's connection string, and the plan cache failure they
/// prevent: a statement prepared while its table was small kept a sequential-scan plan after the table had grown.
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
        async Task<List<string>> RunAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            var lines = new List<string>();
            while (await reader.ReadAsync())
                if (reader.FieldCount > 0 && !reader.IsDBNull(0)) lines.Add(reader.GetValue(0).ToString()!);
            return lines;
        }
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
