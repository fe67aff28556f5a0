using MassTransit;
using Workq.Shared.ControlPlane;
using Workq.Shared.Storage;

namespace Workq.Control.Events;

/// <summary>
/// Takes an event off its worker (API.md "Un-enqueue" and "Cancel"): marked for the worker instances to skip, its
/// delayed copy or its resume (sleeping, waiting) deleted and counted in its batch, its status cancelled. With
/// <c>by</c>, a run of it under way is stopped too; without (an un-enqueue), that run finishes.
/// </summary>
public sealed class EventCancels(
    CancelledEventStore cancelled,
    ScheduledEventStore scheduled,
    EventStatusStore statuses,
    BatchStore batches,
    IPublishEndpoint controlPlane)
{
    /// <returns>
    /// Whether a delayed, sleeping or waiting copy was deleted: the event is then cancelled for good.
    /// </returns>
    public async Task<bool> CancelAsync(
        string canvas,
        long incarnation,
        string worker,
        Guid eventId,
        string? by,
        CancellationToken cancellationToken)
    {
        await cancelled.AddAsync(canvas, incarnation, worker, eventId, cancellationToken);
        // A delayed event not yet due is deleted; the mark above still catches one a pump is publishing right now.
        var removed = await scheduled.DeleteAsync(canvas, worker, eventId, cancellationToken);
        // A delayed member taken out before it was due never reaches a worker: it ends in its batch here.
        if (removed is { BatchId: { } batchId })
            await batches.RecordFinishesAsync(
                [new BatchFinish(canvas, batchId, eventId, EventStatuses.Cancelled)],
                cancellationToken);
        await controlPlane.Publish(new EventCancelled(canvas, worker, eventId, by), cancellationToken);
        await statuses.CancelAsync(canvas, incarnation, worker, eventId, removed?.EnqueuedAt, cancellationToken);
        return removed is not null;
    }
}
