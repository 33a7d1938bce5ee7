using Npgsql;

namespace Relay.Db.Web;

/// <summary>
/// The Data Protection key ring's rows (data_protection_keys): XML text in, XML text out, so every web process on
/// the database decrypts the cookies and anti-forgery tokens the others issued, before and after a restart.
/// Synchronous because ASP.NET Core's IXmlRepository is; the key manager calls it rarely (start-up, key rollover).
/// </summary>
public sealed class DataProtectionKeyStore(NpgsqlDataSource dataSource)
{
    // Shared by every relay process: serialises "is there a usable key, else make one" across web processes.
    private const long KeyCreationLockKey = 0x52454C41_59444B31; // "RELAYDK1"

    public IReadOnlyList<string> All()
    {
        using var connection = dataSource.OpenConnection();
        using var command = new NpgsqlCommand("select xml from data_protection_keys order by id", connection);
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read()) rows.Add(reader.GetString(0));
        return rows;
    }

    /// <summary>Adds one element. The key manager names each with a fresh key id, so a clash is a repeated call: kept once.</summary>
    public void Add(string friendlyName, string xml)
    {
        using var connection = dataSource.OpenConnection();
        using var command = new NpgsqlCommand(
            "insert into data_protection_keys (friendly_name, xml) values (@name, @xml) on conflict (friendly_name) do nothing", connection);
        command.Parameters.AddWithValue("name", friendlyName);
        command.Parameters.AddWithValue("xml", xml);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Runs <paramref name="action"/> while holding a database-wide advisory lock, so web processes that start together
    /// on an empty key ring agree on one key instead of each making its own (a cookie from one would not open on the other).
    /// </summary>
    public void WithKeyCreationLock(Action action)
    {
        using var connection = dataSource.OpenConnection();
        using (var take = new NpgsqlCommand("select pg_advisory_lock(@key)", connection))
        {
            take.Parameters.AddWithValue("key", KeyCreationLockKey);
            take.ExecuteNonQuery();
        }
        try
        {
            action();
        }
        finally
        {
            using var release = new NpgsqlCommand("select pg_advisory_unlock(@key)", connection);
            release.Parameters.AddWithValue("key", KeyCreationLockKey);
            release.ExecuteNonQuery();
        }
    }
}
