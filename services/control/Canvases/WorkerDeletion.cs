using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Canvases;

/// <summary>
/// Deletes a worker as <see cref="CanvasDeletion"/> deletes a canvas: marked deleting first (no batch write for it
/// lands after), then each store's rows (<see cref="IWorkerData"/>), its queues, and its registry row last, so a retry
/// finds the worker and finishes. Its name is held throughout: a deploy of the same name waits, and then starts a new
/// incarnation.
/// </summary>
public sealed class WorkerDeletion(WorkerStore workers, Topology topology, IEnumerable<IWorkerData> stores)
{
    /// <returns>false when there is no such worker.</returns>
    public async Task<bool> DeleteAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        await using var hold = await workers.HoldAsync(canvas, canvasIncarnation: 0, worker, cancellationToken);
        if (hold.Worker is null && !hold.Deleting) return false;
        var (lanes, priorities) = await workers.MarkDeletingAsync(canvas, worker, cancellationToken) ?? (0, false);
        await Task.WhenAll(stores.Select(store => DeletionRetry.Conflicts
            .ExecuteAsync(async token => await store.DeleteWorkerAsync(canvas, worker, token), cancellationToken)
            .AsTask()));
        await topology.DeleteWorkerAsync(canvas, worker, lanes, priorities, cancellationToken);
        await workers.DeleteAsync(canvas, worker, cancellationToken);
        await hold.CommitAsync(cancellationToken);
        return true;
    }
}
