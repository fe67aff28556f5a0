using Workq.Shared.Storage;

namespace Workq.Control.Canvases;

/// <summary>
/// Deletes a canvas store by store: each store deletes its own rows (<see cref="ICanvasData"/>), and the canvas row goes
/// last, so a delete that fails half-way still finds the canvas and its workers, and a retry finishes the job.
/// </summary>
public sealed class CanvasDeletion(CanvasStore canvases, WorkerStore workers, IEnumerable<ICanvasData> stores, ILogger<CanvasDeletion> logger)
{
    /// <returns>The canvas's workers and their ordering lanes (their queues are the caller's to delete), or null when there is no such canvas.</returns>
    public async Task<IReadOnlyList<(string Worker, int Lanes)>?> DeleteAsync(string canvas, CancellationToken cancellationToken)
    {
        if (!await canvases.ExistsAsync(canvas, cancellationToken)) return null;
        var names = (await workers.ListAsync(canvas, cancellationToken)).Select(w => (w.Name, w.OrderingLanes)).ToList();
        // The stores are independent of one another: side by side, each on a pooled connection of its own.
        await Task.WhenAll(stores.Select(store => store.DeleteCanvasAsync(canvas, cancellationToken)));
        // The canvas row takes its token and (the schema's cascade) its workers with it, at once.
        if (!await canvases.DeleteAsync(canvas, cancellationToken))
        {
            logger.LogInformation("Canvas {Canvas} was deleted by another request meanwhile", canvas);
            return null;
        }
        return names;
    }
}
