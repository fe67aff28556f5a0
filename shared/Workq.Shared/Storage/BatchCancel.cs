namespace Workq.Shared.Storage;

/// <summary>
/// What a batch's cancel did: done, or why not; the members it un-enqueued (with their workers), and the delayed ones
/// among them whose rows it deleted (with their enqueue times).
/// </summary>
public sealed record BatchCancel(
    BatchChange Change,
    IReadOnlyList<(Guid Id, string Worker)> Cancelled,
    IReadOnlyList<(Guid Id, DateTimeOffset EnqueuedAt)> Delayed);
