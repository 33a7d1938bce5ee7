using System.Threading.Channels;
using Npgsql;

namespace Relay.Db;

/// <summary>
/// Group commit: work handed in by concurrent callers is written in one transaction and committed with one WAL flush
/// (synchronous_commit on), and each caller's task completes only after the transaction holding its own item has
/// committed. One caller alone is committed at once, without waiting for company: while a commit is in flight,
/// whoever arrives waits for the next one, which then takes them all. A batch that fails is retried one item at a
/// time, so one bad item never costs the others their commit.
/// <para>
/// A COMMIT whose reply never came (the connection broke after it was sent) may have committed or not. Retrying such a
/// batch blindly would write it twice, or fail on a unique key and tell callers "failed" for what is stored. With a
/// <see cref="Confirmer"/>, the writer asks the database (on a new connection) which items are there, completes those
/// as committed and retries only the others; a retry that then hits a duplicate key (the lost commit became visible
/// only meanwhile) is confirmed the same way. Without one, the batch is retried one item at a time as before.
/// </para>
/// </summary>
internal sealed class GroupCommit<TItem, TResult> : IAsyncDisposable
{
    /// <summary>Adds the batch's statements to <paramref name="commands"/> (which already makes the commit synchronous),
    /// runs them, and returns one result per item; the caller commits.</summary>
    public delegate Task<IReadOnlyList<TResult>> Writer(NpgsqlBatch commands, IReadOnlyList<TItem> batch);

    /// <summary>For items whose commit's outcome is unknown: the index and result of each one that is stored (the same item,
    /// not just one with its key); those missing were not committed.</summary>
    public delegate Task<IReadOnlyDictionary<int, TResult>> Confirmer(NpgsqlConnection connection, IReadOnlyList<TItem> items);

    private readonly NpgsqlDataSource dataSource;
    private readonly Writer write;
    private readonly Confirmer? confirm;
    private readonly int maxBatch;
    private readonly Func<TItem, long> size;
    private readonly long maxBatchSize;
    private readonly bool durable;
    private readonly Channel<Pending> channel = Channel.CreateUnbounded<Pending>();
    private readonly Task[] writers;

    private sealed record Pending(TItem Item, CancellationToken Cancellation)
    {
        public TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <param name="writers">Transactions in flight at once (more keep the next batch writing while the last one flushes).</param>
    /// <param name="maxBatch">Items per transaction at most; with <paramref name="maxBatchSize"/> (in <paramref name="size"/>'s unit)
    /// it bounds one commit's work and memory.</param>
    /// <param name="durable">False for bookkeeping that may be lost in a crash (session rows): the commit then does not wait for
    /// the disk, and what a caller is told is only that it is committed, not that it is on disk.</param>
    public GroupCommit(NpgsqlDataSource dataSource, Writer write, int writers, int maxBatch, Func<TItem, long> size, long maxBatchSize,
        bool durable = true, Confirmer? confirm = null)
    {
        this.durable = durable;
        this.confirm = confirm;
        this.dataSource = dataSource;
        this.write = write;
        this.maxBatch = maxBatch;
        this.size = size;
        this.maxBatchSize = maxBatchSize;
        this.writers = Enumerable.Range(0, writers).Select(_ => Task.Run(WriteLoopAsync)).ToArray();
    }

    public async Task<TResult> SubmitAsync(TItem item, CancellationToken cancellationToken)
    {
        var pending = new Pending(item, cancellationToken);
        if (!channel.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(GroupCommit<TItem, TResult>), "the database is shutting down");
        // A caller that gives up gets its error; its item may still commit (for a message: a possible duplicate, never a loss).
        return await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        var reader = channel.Reader;
        var batch = new List<Pending>(maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            long total = 0;
            while (batch.Count < maxBatch && total < maxBatchSize && reader.TryRead(out var next))
            {
                // Given up before it was written: nothing of it reaches the database.
                if (next.Cancellation.IsCancellationRequested) { next.Done.TrySetCanceled(next.Cancellation); continue; }
                batch.Add(next);
                total += size(next.Item);
            }
            if (batch.Count == 0) continue;
            try
            {
                var results = await CommitAsync(batch).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
                continue;
            }
            catch (Exception e) when (e is CommitOutcomeUnknownException && confirm is not null)
            {
                var left = await CompleteConfirmedAsync(batch, e).ConfigureAwait(false);
                foreach (var p in left) await CommitAloneAsync(p).ConfigureAwait(false);
            }
            catch (Exception) when (batch.Count > 1)
            {
                foreach (var p in batch) await CommitAloneAsync(p).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                batch[0].Done.TrySetException(e);
            }
        }
    }

    private async Task CommitAloneAsync(Pending pending)
    {
        try { pending.Done.TrySetResult((await CommitAsync([pending]).ConfigureAwait(false))[0]); }
        catch (Exception e) when (confirm is not null && (e is CommitOutcomeUnknownException || IsUniqueViolation(e)))
        {
            // Unknown again, or a duplicate key: the first commit (or this one) may be what holds the key.
            var left = await CompleteConfirmedAsync([pending], e).ConfigureAwait(false);
            if (left.Count > 0) pending.Done.TrySetException(e);
        }
        catch (Exception e) { pending.Done.TrySetException(e); }
    }

    private static bool IsUniqueViolation(Exception e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <summary>
    /// Completes the items the database holds as committed and returns the rest. When the database cannot be asked
    /// (it is down), every item fails with <paramref name="failure"/>: the caller hears "not acknowledged" for what may be
    /// stored (a possible duplicate when it sends again, never a loss) and nothing is left to retry.
    /// </summary>
    private async Task<IReadOnlyList<Pending>> CompleteConfirmedAsync(IReadOnlyList<Pending> batch, Exception failure)
    {
        // The broken connection may have been a database restart: give it a moment to come back, a few seconds at most.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
                var stored = await confirm!(connection, batch.Select(p => p.Item).ToList()).ConfigureAwait(false);
                var left = new List<Pending>(batch.Count);
                for (var i = 0; i < batch.Count; i++)
                    if (stored.TryGetValue(i, out var result)) batch[i].Done.TrySetResult(result);
                    else left.Add(batch[i]);
                return left;
            }
            catch (Exception) when (attempt < 4)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 << attempt)).ConfigureAwait(false);
            }
            catch (Exception)
            {
                foreach (var p in batch) p.Done.TrySetException(failure);
                return [];
            }
        }
    }

    private async Task<IReadOnlyList<TResult>> CommitAsync(IReadOnlyList<Pending> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        // One round trip for all of the batch's statements (BEGIN travels with them), one for the commit.
        await using var commands = new NpgsqlBatch(connection, transaction);
        // Whatever the server default, what a caller is told is committed must be on disk.
        commands.BatchCommands.Add(new NpgsqlBatchCommand(durable ? "set local synchronous_commit = on" : "set local synchronous_commit = off"));
        // Every statement a writer runs finds its rows by key (inserts, updates by id, upserts on a unique key, the foreign
        // key checks they trigger), so an index is right at any table size. With sequential scans ruled out, one generic
        // plan per statement stays right as the tables grow, and these transactions use it instead of planning each
        // statement and each foreign key check anew, as everything else does (RelayDatabase). Measured with
        // bench/pg-profile.sh: 510 msg/s relayed planning anew, 620–670 with plan_cache_mode auto, 690–705 with generic plans.
        commands.BatchCommands.Add(new NpgsqlBatchCommand("set local enable_seqscan = off"));
        commands.BatchCommands.Add(new NpgsqlBatchCommand("set local plan_cache_mode = force_generic_plan"));
        var results = await write(commands, batch.Select(p => p.Item).ToList()).ConfigureAwait(false);
        try
        {
            await transaction.CommitAsync().ConfigureAwait(false);
        }
        // The server answered the COMMIT with an error: it rolled back, the outcome is known. Anything else (the
        // connection broke, no reply) leaves it unknown: the COMMIT may have reached the server and succeeded.
        catch (Exception e) when (e is not PostgresException)
        {
            throw new CommitOutcomeUnknownException(e);
        }
        return results;
    }

    /// <summary>The COMMIT was sent and no answer came back: the transaction may or may not have committed.</summary>
    internal sealed class CommitOutcomeUnknownException(Exception inner) : Exception("the connection broke during COMMIT; the outcome is unknown", inner);

    /// <summary>Takes no more work and waits for what was already handed in to be committed (or failed).</summary>
    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await Task.WhenAll(writers).ConfigureAwait(false);
    }
}
