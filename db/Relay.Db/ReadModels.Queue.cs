using Npgsql;
using NpgsqlTypes;

namespace Relay.Db;

public sealed partial class ReadModels
{
    /// <summary>
    /// Like <see cref="ListMessagesAsync(Page, CancellationToken)"/>, restricted to messages whose state (their least
    /// final recipient's) is <paramref name="state"/>; null lists every message.
    /// </summary>
    public async Task<IReadOnlyList<MessageSummary>> ListMessagesAsync(string? state, Page page, CancellationToken cancellationToken)
    {
        if (state is null)
            return await ListMessagesAsync(page, cancellationToken).ConfigureAwait(false);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            select * from (
                select m.queue_id, m.sender, array_agg(r.address order by r.id), m.size, m.received_at,
                       (array_agg(r.state order by array_position(array['held','queued','deferred','bounced','delivered'], r.state)))[1] as state,
                       min(r.next_attempt_at) filter (where r.state in ('queued', 'deferred')),
                       (array_agg(r.last_result order by r.last_attempt_at desc nulls last))[1],
                       m.inbound_transport, m.id
                from messages m join recipients r on r.message_id = m.id
                group by m.id) as summary
            where summary.state = @state
            order by summary.received_at desc, summary.id desc
            offset @offset limit @limit
            """, connection);
        command.Parameters.AddWithValue("state", NpgsqlDbType.Text, state);
        command.Parameters.AddWithValue("offset", page.SafeOffset);
        command.Parameters.AddWithValue("limit", page.SafeLimit);
        var rows = new List<MessageSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            rows.Add(new MessageSummary(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<string[]>(2), reader.GetInt64(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), NullableText(reader, 7), reader.GetString(8)));
        return rows;
    }
}
