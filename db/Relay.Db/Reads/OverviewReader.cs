using Npgsql;

namespace Relay.Db;

/// <summary>Attempts that carried mail in one period, by transport word and by network word (DESIGN.md § Security vocabulary).</summary>
public sealed record PeriodCounts(string Period, TimeSpan Span, IReadOnlyDictionary<string, int> ByTransport, IReadOnlyDictionary<string, int> ByNetwork)
{
    public int Total => ByTransport.Values.Sum();
}

public sealed record QueueCounts(int Messages, int Queued, int Deferred, int Held, DateTimeOffset? OldestReceived, DateTimeOffset DatabaseNow)
{
    public TimeSpan? OldestAge => OldestReceived is null ? null : DatabaseNow - OldestReceived.Value;
}

public sealed record Overview(IReadOnlyList<PeriodCounts> Periods, QueueCounts Queue, IReadOnlyDictionary<string, int> InboundLastDay,
    IReadOnlyList<PeerView> Downgraded);

/// <summary>The overview screen, read in one connection. Read-only.</summary>
public sealed class OverviewReader(NpgsqlDataSource dataSource)
{
    private static readonly (string Name, TimeSpan Span)[] overviewPeriods =
        [("hour", TimeSpan.FromHours(1)), ("day", TimeSpan.FromDays(1)), ("week", TimeSpan.FromDays(7))];

    /// <summary>Everything the overview page shows, read in one connection.</summary>
    public async Task<Overview> GetOverviewAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var periods = new List<PeriodCounts>();
        await using (var command = new NpgsqlCommand("""
            select w.name, d.transport, d.network, count(*)::int
            from unnest(@names, @spans) as w(name, span)
            join delivery_attempts d on d.started_at >= now() - w.span
            -- only sessions that carried mail: an attempt that sent nothing has no transport to count
            where d.transport is not null
            group by w.name, d.transport, d.network
            """, connection))
        {
            command.Parameters.AddWithValue("names", overviewPeriods.Select(p => p.Name).ToArray());
            command.Parameters.AddWithValue("spans", overviewPeriods.Select(p => p.Span).ToArray());
            var byTransport = overviewPeriods.ToDictionary(p => p.Name, _ => new Dictionary<string, int>());
            var byNetwork = overviewPeriods.ToDictionary(p => p.Name, _ => new Dictionary<string, int>());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = reader.GetString(0);
                var count = reader.GetInt32(3);
                byTransport[name][reader.GetString(1)] = byTransport[name].GetValueOrDefault(reader.GetString(1)) + count;
                byNetwork[name][reader.GetString(2)] = byNetwork[name].GetValueOrDefault(reader.GetString(2)) + count;
            }
            periods.AddRange(overviewPeriods.Select(p => new PeriodCounts(p.Name, p.Span, byTransport[p.Name], byNetwork[p.Name])));
        }

        var queue = await ReadQueueCountsAsync(connection, cancellationToken).ConfigureAwait(false);

        var inbound = new Dictionary<string, int>();
        await using (var command = new NpgsqlCommand(
            "select transport, count(*)::int from inbound_sessions where started_at >= now() - interval '1 day' group by transport", connection))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                inbound[reader.GetString(0)] = reader.GetInt32(1);
        }

        var downgraded = await PeerReader.ListAsync(connection, new PeerFilter(DowngradedOnly: true, Sort: PeerSort.LastSeenNewest), new Page(0, 20),
            cancellationToken).ConfigureAwait(false);
        return new Overview(periods, queue, inbound, downgraded);
    }

    /// <summary>Queue depth and the oldest waiting message's age alone, for the metrics endpoint's gauges.</summary>
    public async Task<QueueCounts> GetQueueCountsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadQueueCountsAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<QueueCounts> ReadQueueCountsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            select count(distinct r.message_id)::int,
                   count(*) filter (where r.state = 'queued')::int,
                   count(*) filter (where r.state = 'deferred')::int,
                   count(*) filter (where r.state = 'held')::int,
                   min(m.received_at), now()
            from recipients r join messages m on m.id = r.message_id
            where r.state in ('queued', 'deferred', 'held')
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new QueueCounts(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3),
            reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5));
    }
}
