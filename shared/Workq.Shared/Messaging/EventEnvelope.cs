using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Messaging;

/// <summary>
/// An event's identity and routing; <c>OrderingKey</c> null for an event without one. The incarnations are those of its
/// canvas and worker, 0 where not known (an emit names its worker, not an incarnation of it; an event from before
/// incarnations names neither). <c>BatchId</c> is the batch the event belongs to (API.md "Batches"), <c>CallbackOf</c>
/// the batch whose callback it is; null for an event outside batches. <c>Resume</c> counts the times a durable event
/// has resumed from a sleep or a wait (API.md "Durable handlers"), 0 on its first run. A debounced event carries its
/// <c>DebounceKey</c> and how many emits it <c>Absorbed</c> when it was published (API.md "Debounce"). <c>Priority</c>
/// says which of its worker's queues it waits in (API.md "Priorities").
/// </summary>
public readonly record struct EventEnvelope(
    Guid Id,
    string Canvas,
    string Worker,
    DateTimeOffset EnqueuedAt,
    int Depth,
    string? TraceParent,
    string? OrderingKey = null,
    long CanvasIncarnation = 0,
    long WorkerIncarnation = 0,
    Guid? BatchId = null,
    Guid? CallbackOf = null,
    int Resume = 0,
    string? DebounceKey = null,
    int Absorbed = 0,
    Priority Priority = Priority.Normal)
{
    /// <summary>
    /// False for an event of another incarnation of its canvas or worker than these: one deleted since, whose events
    /// are dropped. An event without incarnations counts as current.
    /// </summary>
    public bool BelongsTo(long canvasIncarnation, long workerIncarnation) =>
        (CanvasIncarnation == 0 || CanvasIncarnation == canvasIncarnation)
            && (WorkerIncarnation == 0 || WorkerIncarnation == workerIncarnation);
}
