using System.Reflection;
using Npgsql;

namespace Relay.Db;

/// <summary>
/// Applies the numbered migrations embedded from db/migrations, each in its own transaction, under a
/// session advisory lock so two processes migrating at once apply each migration exactly once.
/// </summary>
public sealed class Migrator(NpgsqlDataSource dataSource)
{
    // An arbitrary constant shared by every relay process: the advisory lock that serialises migrations.
    private const long AdvisoryLockKey = 0x52454C41_59444200; // "RELAYDB\0"

    public static IReadOnlyList<Migration> Embedded() => LoadEmbedded(typeof(Migrator).Assembly);

    /// <summary>Applies pending migrations; returns the ones applied by this call (empty when up to date).</summary>
    public async Task<IReadOnlyList<Migration>> ApplyAsync(CancellationToken cancellationToken = default)
    {
        var migrations = Embedded();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "select pg_advisory_lock(@key)", cancellationToken, ("key", AdvisoryLockKey)).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, null, """
                create table if not exists schema_migrations (
                    version integer primary key,
                    name text not null,
                    applied_at timestamptz not null default now())
                """, cancellationToken).ConfigureAwait(false);
            var applied = await AppliedVersionsAsync(connection, cancellationToken).ConfigureAwait(false);
            var done = new List<Migration>();
            foreach (var migration in migrations.Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, "insert into schema_migrations (version, name) values (@v, @n)",
                    cancellationToken, ("v", migration.Version), ("n", migration.Name)).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                done.Add(migration);
            }
            return done;
        }
        finally
        {
            await ExecuteAsync(connection, null, "select pg_advisory_unlock(@key)", CancellationToken.None, ("key", AdvisoryLockKey)).ConfigureAwait(false);
        }
    }

    /// <summary>Versions recorded as applied, or empty when the schema table does not exist yet.</summary>
    public async Task<IReadOnlySet<int>> AppliedVersionsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var exists = new NpgsqlCommand("select to_regclass('schema_migrations') is not null", connection);
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            return new HashSet<int>();
        return await AppliedVersionsAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<HashSet<int>> AppliedVersionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var versions = new HashSet<int>();
        await using var command = new NpgsqlCommand("select version from schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            versions.Add(reader.GetInt32(0));
        return versions;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    internal static IReadOnlyList<Migration> LoadEmbedded(Assembly assembly)
    {
        var list = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("migrations/", StringComparison.Ordinal)))
        {
            var file = resource["migrations/".Length..];
            var migration = Migration.FromFileName(file, ReadResource(assembly, resource));
            list.Add(migration);
        }
        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < list.Count; i++)
            if (list[i].Version == list[i - 1].Version)
                throw new InvalidOperationException($"two migrations share version {list[i].Version}: {list[i - 1].Name}, {list[i].Name}");
        return list;
    }

    private static string ReadResource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>One file of db/migrations: NNNN_name.sql.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    public static Migration FromFileName(string fileName, string sql)
    {
        var underscore = fileName.IndexOf('_');
        if (underscore <= 0 || !fileName.EndsWith(".sql", StringComparison.Ordinal)
            || !int.TryParse(fileName.AsSpan(0, underscore), out var version))
            throw new InvalidOperationException($"migration file '{fileName}' is not named NNNN_name.sql");
        return new Migration(version, fileName[(underscore + 1)..^4], sql);
    }
}
