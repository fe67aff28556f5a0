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
