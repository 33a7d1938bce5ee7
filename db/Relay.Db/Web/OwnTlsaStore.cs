using Npgsql;

namespace Relay.Db.Web;

/// <param name="Verdict">`matches`, `mismatch`, `not-published`, `insecure`, `bogus` or `error`, as Relay.Policy words it.</param>
/// <param name="Problem">Whether the smtp role warned about it (senders using DANE cannot verify us, or nothing is known).</param>
public sealed record OwnTlsaRow(string Owner, string Verdict, bool Problem, string Detail, DateTimeOffset CheckedAt);

/// <summary>
/// The latest check of our own TLSA record per owner name (own_tlsa_checks): the smtp role writes it, the overview page
/// reads it, so a web process shows what an smtp process on another host found.
/// </summary>
public sealed class OwnTlsaStore(NpgsqlDataSource dataSource)
{
    public async Task SaveAsync(OwnTlsaRow row, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            insert into own_tlsa_checks (owner, verdict, problem, detail, checked_at) values (@owner, @verdict, @problem, @detail, @checked_at)
            on conflict (owner) do update set verdict = excluded.verdict, problem = excluded.problem, detail = excluded.detail,
                checked_at = excluded.checked_at
            """, connection);
        command.Parameters.AddWithValue("owner", row.Owner);
        command.Parameters.AddWithValue("verdict", row.Verdict);
        command.Parameters.AddWithValue("problem", row.Problem);
        command.Parameters.AddWithValue("detail", row.Detail);
        command.Parameters.AddWithValue("checked_at", row.CheckedAt.ToUniversalTime());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every owner's latest check, problems first.</summary>
    public async Task<IReadOnlyList<OwnTlsaRow>> LatestAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "select owner, verdict, problem, detail, checked_at from own_tlsa_checks order by problem desc, owner", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<OwnTlsaRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new OwnTlsaRow(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4)));
        return rows;
    }
}
