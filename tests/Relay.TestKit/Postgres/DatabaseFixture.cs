using Relay.Db;
using Xunit;

namespace Relay.TestKit.Postgres;

/// <summary>
/// An xunit class fixture: a fresh, migrated database of the shared cluster for one test class, so
/// classes never see each other's rows.
/// </summary>
public class DatabaseFixture : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";
    public RelayDatabase Database { get; private set; } = null!;

    protected virtual string Prefix => "relay_t";

    public async Task InitializeAsync()
    {
        var cluster = await PostgresCluster.SharedAsync();
        ConnectionString = await cluster.CreateDatabaseAsync(Prefix);
        Database = new RelayDatabase(ConnectionString);
        await Database.Migrator().ApplyAsync();
    }

    public async Task DisposeAsync() => await Database.DisposeAsync();
}
