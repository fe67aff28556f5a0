using Workq.Shared.Storage;

namespace Workq.Control.Canvases;

/// <summary>Deletes a worker's rows store by store (<see cref="IWorkerData"/>), its registry row last, so a retry finds the worker and finishes.</summary>
public sealed class WorkerDeletion(WorkerStore workers, IEnumerable<IWorkerData> stores)
{
    /// <returns>The worker's ordering lanes, or null when there was no such worker (any more).</returns>
    public async Task<int?> DeleteAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        await Task.WhenAll(stores.Select(store => store.DeleteWorkerAsync(canvas, worker, cancellationToken)));
        return await workers.DeleteAsync(canvas, worker, cancellationToken);
    }
}
