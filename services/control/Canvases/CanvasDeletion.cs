using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Canvases;

/// <summary>
/// Deletes a canvas (docs/DESIGN.md "Deleting a canvas or a worker"): marks it and its workers deleting first, which
/// waits for every batch write holding them and turns away every later one; then each store deletes its own rows (<see
/// cref="ICanvasData"/>), the queues and the exchange go, and the canvas row goes last. A delete that fails half-way
/// leaves the canvas marked: gone for every route but this one, whose retry finishes the job.
/// </summary>
public sealed class CanvasDeletion(
    CanvasStore canvases,
    Topology topology,
    IEnumerable<ICanvasData> stores,
    ILogger<CanvasDeletion> logger)
{
    /// <returns>
    /// The canvas's workers, their ordering lanes and priority queues, or null when there is no such canvas.
    /// </returns>
    public async Task<IReadOnlyList<(string Worker, int Lanes, bool Priorities)>?> DeleteAsync(
        string canvas,
        CancellationToken cancellationToken)
    {
        var workers = await canvases.MarkDeletingAsync(canvas, cancellationToken);
        if (workers is null) return null;
        // The stores are independent of one another: side by side, each on a pooled connection of its own.
        await Task.WhenAll(stores.Select(store => DeletionRetry.Conflicts
            .ExecuteAsync(async token => await store.DeleteCanvasAsync(canvas, token), cancellationToken).AsTask()));
        // Nothing declares a queue of a canvas marked deleting, so none comes back after this.
        await topology.DeleteCanvasAsync(canvas, workers, cancellationToken);
        // The canvas row takes its token and (the schema's cascade) its workers with it, at once.
        if (!await canvases.DeleteAsync(canvas, cancellationToken))
        {
            logger.LogInformation("Canvas {Canvas} was deleted by another request meanwhile", canvas);
            return null;
        }
        return workers;
    }
}
