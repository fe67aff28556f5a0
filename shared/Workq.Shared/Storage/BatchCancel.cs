namespace Workq.Shared.Storage;

/// <summary>
/// What a batch's cancel did: done, or why not; the members it un-enqueued (with their workers), the delayed (or
/// sleeping, waiting) ones among them whose rows it deleted (with their enqueue times), and the members running now,
/// for the caller to stop.
/// </summary>
public sealed record BatchCancel(
    BatchChange Change,
    IReadOnlyList<(Guid Id, string Worker)> Cancelled,
    IReadOnlyList<(Guid Id, DateTimeOffset EnqueuedAt)> Delayed,
    IReadOnlyList<(Guid Id, string Worker)> Running);
