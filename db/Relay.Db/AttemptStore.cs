using Npgsql;

namespace Relay.Db;

/// <summary>
/// Records attempts: each one's row, every recipient's result and the recipients' new states in one statement
/// (<see cref="AttemptStatement"/>), the peers' history in one statement per peer (<see cref="PeerHistoryStatement"/>),
/// committed in one transaction, so the web UI never sees a delivery without its outcome. Concurrent sessions' attempts
/// share a transaction and its WAL flush (<see cref="GroupCommit{TItem, TResult}"/>);
/// each caller returns only after the commit holding its own attempt, so a recipient is 'delivered' only once that commit
/// (after the peer's 250) is on disk.
/// </summary>
public sealed class AttemptStore : IAsyncDisposable
{
    /// <summary>Attempts per transaction at most: bounds one commit's statements (each is one attempt of a few recipients).</summary>
    public const int MaxBatch = 64;

    private readonly GroupCommit<AttemptWrite, long> commits;

    internal AttemptStore(NpgsqlDataSource dataSource) =>
        // Two writers keep the next batch writing while the last one flushes.
        commits = new GroupCommit<AttemptWrite, long>(dataSource, WriteAsync, writers: 2, MaxBatch, _ => 1, MaxBatch);

    public Task<long> RecordAsync(AttemptRecord attempt, IReadOnlyList<RecipientOutcome> outcomes, CancellationToken cancellationToken) =>
        commits.SubmitAsync(new AttemptWrite(attempt, outcomes, PassedOn: false), cancellationToken);

    /// <summary>
    /// Records an attempt with one peer that ended before any recipient got a final answer (refused, 5xx
    /// greeting, TLS demanded but impossible) while delivery moves on to the next peer: the attempt is linked
    /// to the recipients as 'deferred' so `relay queue show` lists it, but their state and lease stay as they
    /// are, because the same delivery is still running.
    /// </summary>
    public Task<long> RecordPassedOnAsync(AttemptRecord attempt, IReadOnlyList<long> recipientIds, string? reply, CancellationToken cancellationToken) =>
        commits.SubmitAsync(new AttemptWrite(attempt, recipientIds.Select(id => new RecipientOutcome(id, RecipientResult.Deferred, reply)).ToList(),
            PassedOn: true), cancellationToken);

    /// <summary>
    /// The batch's statements in one round trip: each attempt's, then one per peer (<see cref="PeerHistoryStatement"/>) in
    /// the order of their keys, so two transactions in flight at once always lock peers in the same order and never
    /// deadlock each other, and hold each peer row only from the end of the batch to its commit.
    /// </summary>
    private static async Task<IReadOnlyList<long>> WriteAsync(NpgsqlBatch commands, IReadOnlyList<AttemptWrite> batch)
    {
        foreach (var write in batch) commands.BatchCommands.Add(AttemptStatement.For(write));
        foreach (var samePeer in PeerHistoryStatement.Groups(batch)) commands.BatchCommands.Add(PeerHistoryStatement.For(samePeer));
        var ids = new long[batch.Count];
        await using var reader = await commands.ExecuteReaderAsync().ConfigureAwait(false);
        for (var i = 0; i < batch.Count; i++)
        {
            if (!await reader.ReadAsync().ConfigureAwait(false)) throw new InvalidOperationException("an attempt statement returned no id");
            ids[i] = reader.GetInt64(0);
            await reader.NextResultAsync().ConfigureAwait(false);
        }
        return ids;
    }

    /// <summary>Waits for the attempts already handed in to be committed (or failed).</summary>
    public ValueTask DisposeAsync() => commits.DisposeAsync();

    internal static void AddText(NpgsqlParameterCollection parameters, string name, string? value) =>
        parameters.AddWithValue(name, NpgsqlTypes.NpgsqlDbType.Text, (object?)value ?? DBNull.Value);
}
