namespace Workq.Shared.Storage;

/// <summary>
/// The events one emit request enqueued, all queued at <paramref name="EnqueuedAt"/> (their version-7 ids carry that
/// millisecond): stored as one row, which any status written for one of them later outranks. <c>Prioritized</c>: its
/// high and low events, for their statuses (none: null).
/// </summary>
public sealed record EmittedEvents(
    string Canvas,
    DateTimeOffset EnqueuedAt,
    Guid[] Ids,
    string[] Workers,
    long CanvasIncarnation = 0,
    (Guid Id, Handlers.Messaging.Priority Priority)[]? Prioritized = null);
