namespace Workq.Shared.Storage;

/// <summary>
/// A batch as stored. The counts are exact once it finished; before, a member's final status reported twice (a run
/// delivered again after it finished) may count twice until the batch is counted exactly.
/// </summary>
public sealed record BatchRow(
    Guid Id,
    string Canvas,
    int Depth,
    int Total,
    int Seen,
    int Completed,
    int Failed,
    int TimedOut,
    int Cancelled,
    int DeadLettered,
    string? OnCompleteWorker,
    string? OnSuccessWorker,
    DateTime CreatedAt,
    DateTime? ClosedAt,
    DateTime? CancelledAt,
    DateTime? FinishedAt)
{
    public string State => FinishedAt is not null
        ? BatchStates.Completed
        : ClosedAt is null ? BatchStates.Open : BatchStates.Running;

    public DateTimeOffset Created => Utc(CreatedAt)!.Value;
    public DateTimeOffset? Closed => Utc(ClosedAt);
    public DateTimeOffset? CancelledAtUtc => Utc(CancelledAt);
    public DateTimeOffset? Finished => Utc(FinishedAt);

    private static DateTimeOffset? Utc(DateTime? at) =>
        at is { } time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : null;

    /// <summary>Members without a final status yet (never below 0).</summary>
    public int Pending => Math.Max(0, Total - Math.Min(Seen, Total));
}

/// <summary>The states of API.md's batch.</summary>
public static class BatchStates
{
    public const string Open = "open", Running = "running", Completed = "completed";

    public static bool IsState(string? text) => text is Open or Running or Completed;
}

/// <summary>The names of a batch's callbacks, which its callbacks' ids are derived from.</summary>
public static class BatchCallbacks
{
    public const string OnComplete = "onComplete", OnSuccess = "onSuccess";
}

/// <summary>What an add or a close did: done, or why not.</summary>
public enum BatchChange
{
    Done,
    NotFound,
    Closed,
    Finished,
}

/// <summary>
/// A final status of a batch's member: the first one recorded for an id is the one the batch counts.
/// </summary>
public readonly record struct BatchFinish(string Canvas, Guid BatchId, Guid EventId, string Status);

/// <summary>Another request holds what this one needs (a batch being created with the same key): retry.</summary>
public sealed class BatchConflictException(string message) : Exception(message);

/// <summary>
/// What a batch's cancel did: done, or why not; the members it un-enqueued (with their workers), and the delayed ones
/// among them whose rows it deleted (with their enqueue times).
/// </summary>
public sealed record BatchCancel(
    BatchChange Change,
    IReadOnlyList<(Guid Id, string Worker)> Cancelled,
    IReadOnlyList<(Guid Id, DateTimeOffset EnqueuedAt)> Delayed);
