namespace Relay.Delivery.Engine;

/// <summary>
/// The records of one session's transactions that are still committing, so the session can carry the next message
/// meanwhile: at most <see cref="Limit"/> behind (the oldest is awaited first), all awaited by <see cref="DrainAsync"/>
/// before the batch ends. A crash loses at most these uncommitted records: their recipients, still leased and not
/// 'delivered', are delivered again after the lease (a duplicate, never a loss and never a false 'delivered').
/// </summary>
internal sealed class RecordWindow
{
    public const int Limit = 8;

    private readonly Queue<Task> inFlight = new();

    /// <summary>Adds a record being written; waits for the oldest when the window is full (its failure surfaces here).</summary>
    public async Task AddAsync(Task record)
    {
        inFlight.Enqueue(record);
        while (inFlight.Count > Limit) await inFlight.Dequeue().ConfigureAwait(false);
    }

    /// <summary>Waits for every record; throws the first failure after all have finished.</summary>
    public async Task DrainAsync()
    {
        var all = inFlight.ToArray();
        inFlight.Clear();
        await Task.WhenAll(all).ConfigureAwait(false);
    }
}
