namespace Workq.Client;

/// <summary>
/// A batch (<see cref="WorkqControlClient.GetBatchAsync"/>): <c>State</c> is open (events may still be added), running
/// (closed, members pending) or completed. Each member counts once, in <c>Pending</c> until its final status; the
/// counts are exact once the batch completed.
/// </summary>
public sealed record Batch(
    Guid Id,
    string State,
    int Total,
    int Pending,
    int Completed,
    int Failed,
    int TimedOut,
    int Cancelled,
    int DeadLettered,
    BatchCallbackRef? OnComplete,
    BatchCallbackRef? OnSuccess,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosedAt,
    DateTimeOffset? CancelledAt,
    DateTimeOffset? FinishedAt)
{
    /// <summary>Every member ended and the callbacks were emitted: it will not change again.</summary>
    public bool IsCompleted => State == "completed";
}
