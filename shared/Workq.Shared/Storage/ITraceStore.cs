namespace Workq.Shared.Storage;

/// <summary>
/// The last N traces of each worker, kept as the JSON they were written as, so every store answers the API with the
/// same bytes. Written in batches by the worker instances, never per event. PostgreSQL is the default
/// (<see cref="PostgresTraceStore"/>); <c>WORKQ_TRACES_MONGODB</c> chooses MongoDB.
/// </summary>
public interface ITraceStore : ICanvasData, IWorkerData
{
    /// <summary>
    /// Adds a batch, then keeps only the newest <paramref name="keepPerWorker"/> of each worker the batch touched.
    /// </summary>
    Task AppendAsync(IReadOnlyCollection<TraceEntry> traces, int keepPerWorker, CancellationToken cancellationToken);

    /// <summary>A worker's newest traces first.</summary>
    Task<IReadOnlyList<string>> ListAsync(string canvas, string worker, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The kept traces of one event on a canvas (one per attempt), newest first; never another canvas's.
    /// </summary>
    Task<IReadOnlyList<(string Worker, string Json)>> FindAsync(
        string canvas,
        Guid eventId,
        CancellationToken cancellationToken);
}
