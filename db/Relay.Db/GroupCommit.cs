using System.Threading.Channels;
using Npgsql;

namespace Relay.Db;

/// <summary>
/// Group commit: work handed in by concurrent callers is written in one transaction and committed with one WAL flush
/// (synchronous_commit on), and each caller's task completes only after the transaction holding its own item has
/// committed. One caller alone is committed at once, without waiting for company: while a commit is in flight,
/// whoever arrives waits for the next one, which then takes them all. A batch that fails is retried one item at a
/// time, so one bad item never costs the others their commit.
/// </summary>
internal sealed class GroupCommit<TItem, TResult> : IAsyncDisposable
{
    /// <summary>Adds the batch's statements to <paramref name="commands"/> (which already makes the commit synchronous),
    /// runs them, and returns one result per item; the caller commits.</summary>
    public delegate Task<IReadOnlyList<TResult>> Writer(NpgsqlBatch commands, IReadOnlyList<TItem> batch);

    private readonly NpgsqlDataSource dataSource;
    private readonly Writer write;
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
        bool durable = true)
    {
        this.durable = durable;
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
        catch (Exception e) { pending.Done.TrySetException(e); }
    }

    private async Task<IReadOnlyList<TResult>> CommitAsync(IReadOnlyList<Pending> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
        // One round trip for all of the batch's statements (BEGIN travels with them), one for the commit.
        await using var commands = new NpgsqlBatch(connection, transaction);
        // Whatever the server default, what a caller is told is committed must be on disk.
        commands.BatchCommands.Add(new NpgsqlBatchCommand(durable ? "set local synchronous_commit = on" : "set local synchronous_commit = off"));
        var results = await write(commands, batch.Select(p => p.Item).ToList()).ConfigureAwait(false);
        await transaction.CommitAsync().ConfigureAwait(false);
        return results;
    }

    /// <summary>Takes no more work and waits for what was already handed in to be committed (or failed).</summary>
    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await Task.WhenAll(writers).ConfigureAwait(false);
    }
}
