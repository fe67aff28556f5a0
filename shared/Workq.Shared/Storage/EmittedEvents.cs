namespace Workq.Shared.Storage;

/// <summary>
/// The events one emit request enqueued, all queued at <paramref name="EnqueuedAt"/> (their version-7 ids carry that
/// millisecond): stored as one row, which any status written for one of them later outranks.
/// </summary>
public sealed record EmittedEvents(
    string Canvas,
    DateTimeOffset EnqueuedAt,
    Guid[] Ids,
    string[] Workers,
    long CanvasIncarnation = 0);
