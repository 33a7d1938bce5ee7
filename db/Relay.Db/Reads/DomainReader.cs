using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

/// <summary>The MTA-STS policy cached for a domain (sts_policies), as the domains screen shows it.</summary>
public sealed record CachedStsView(string PolicyId, string Mode, DateTimeOffset FetchedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// One recipient domain (next hop) on the domains screen, from what delivery recorded in the period: the RFC 8460 policy
/// type and policy strings of its latest attempt (migration 0006's tlsrpt_* columns, as the classifier's plan named them),
/// the policy types seen in the period, and session counts counted as a TLS report counts them (successful: TLS completed
/// and no result type; failed: a result type). Words are stored text; Relay.Policy's enums parse them in the view.
/// </summary>
/// <param name="LastPolicyType">Null: the latest attempt was recorded before migration 0006.</param>
/// <param name="LastTransport">Null: the latest attempt sent nothing.</param>
public sealed record DomainView(string Domain, DateTimeOffset LastAttemptAt, string? LastPolicyType, IReadOnlyList<string> LastPolicyStrings,
    string LastPolicyLevel, string? LastTransport, string? LastReason, IReadOnlyList<string> PolicyTypesSeen,
    long Attempts, long SuccessfulSessions, long FailedSessions, int Peers, CachedStsView? Sts);

/// <summary>The domains screen (Relay.Web): per recipient domain, which policy applied and how its sessions went. Read-only.</summary>
public sealed class DomainReader(NpgsqlDataSource dataSource)
{
    /// <param name="within">The period counted; attempts before it do not list a domain.</param>
    public async Task<IReadOnlyList<DomainView>> ListAsync(string? search, TimeSpan within, Page page, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Our own TLS reports' attempts are left out, as the reports leave them out (tlsrpt_report).
        await using var command = new NpgsqlCommand("""
            select g.next_hop, g.last_at, l.tlsrpt_policy_type, l.tlsrpt_policy_strings, l.policy_level, l.transport, l.reason,
                   g.types, g.attempts, g.successful, g.failed,
                   (select count(*)::int from peers p where p.next_hop = g.next_hop),
                   s.policy_id, s.mode, s.fetched_at, s.fetched_at + make_interval(secs => s.max_age_seconds)
              from (select d.next_hop, max(d.started_at) as last_at, count(*) as attempts,
                           count(*) filter (where d.result_type is null and d.tls_version is not null) as successful,
                           count(*) filter (where d.result_type is not null) as failed,
                           array_remove(array_agg(distinct d.tlsrpt_policy_type), null) as types
                      from delivery_attempts d
                     where not d.tlsrpt_report and d.started_at >= now() - @within
                       and (@pattern::text is null or d.next_hop ilike @pattern)
                     group by d.next_hop) g
              cross join lateral (
                    select d.tlsrpt_policy_type, d.tlsrpt_policy_strings, d.policy_level, d.transport, d.reason
                      from delivery_attempts d
                     where d.next_hop = g.next_hop and not d.tlsrpt_report
                     order by d.started_at desc, d.id desc limit 1) l
              left join sts_policies s on s.domain = g.next_hop
             order by g.next_hop
            offset @offset limit @limit
            """, connection);
        var p = command.Parameters;
        var pattern = string.IsNullOrWhiteSpace(search) ? null
            : "%" + search.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        p.AddWithValue("pattern", NpgsqlDbType.Text, (object?)pattern ?? DBNull.Value);
        p.AddWithValue("within", NpgsqlDbType.Interval, within);
        p.AddWithValue("offset", page.SafeOffset);
        p.AddWithValue("limit", page.SafeLimit);
        var rows = new List<DomainView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var sts = reader.IsDBNull(12) ? null : new CachedStsView(reader.GetString(12), reader.GetString(13),
                reader.GetFieldValue<DateTimeOffset>(14), reader.GetFieldValue<DateTimeOffset>(15));
            rows.Add(new DomainView(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.NullableText(2), reader.GetFieldValue<string[]>(3),
                reader.GetString(4), reader.NullableText(5), reader.NullableText(6), reader.GetFieldValue<string[]>(7),
                reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt32(11), sts));
        }
        return rows;
    }
}
