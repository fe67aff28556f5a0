using Workq.Shared.Handlers;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Worker.Runs;

namespace Workq.Worker.Recording;

/// <summary>What a delivery's run means for its event's status (API.md, "Event status").</summary>
public static class RunStatus
{
    private const int MaxErrorLength = 2_000;

    public static EventStatusUpdate Running(EventEnvelope envelope, int attempt, DateTimeOffset startedAt) =>
        new(
            envelope.Canvas,
            envelope.Id,
            envelope.Worker,
            EventStatuses.Running,
            EventStatuses.RunningRank,
            attempt,
            envelope.EnqueuedAt,
            StartedAt: startedAt,
            CanvasIncarnation: envelope.CanvasIncarnation,
            Priority: envelope.Priority);

    /// <summary>
    /// An event that goes back to its queue (requeued, a retry, a crash suspect) is queued again, one attempt on.
    /// </summary>
    public static EventStatusUpdate Again(EventEnvelope envelope, int attempt, string? error) =>
        EventStatusUpdate.Queued(envelope, attempt + 1, error: Clean(error));

    public static EventStatusUpdate Cancelled(EventEnvelope envelope, int attempt)
    {
        var now = DateTimeOffset.UtcNow;
        return new(
            envelope.Canvas,
            envelope.Id,
            envelope.Worker,
            EventStatuses.Cancelled,
            EventStatuses.FinishedRank,
            attempt,
            envelope.EnqueuedAt,
            FinishedAt: now,
            CanvasIncarnation: envelope.CanvasIncarnation,
            Priority: envelope.Priority);
    }

    /// <summary>
    /// The status once the delivery was settled: retried, dead-lettered, or finished as the run ended.
    /// </summary>
    public static EventStatusUpdate Settled(
        EventEnvelope envelope,
        int attempt,
        DateTimeOffset startedAt,
        RunResult result,
        RetryPolicy? retry)
    {
        var error = Clean(result.Error);
        switch (result.Outcome)
        {
            case RunOutcome.ShuttingDown or RunOutcome.Requeue or RunOutcome.Suspect:
                return Again(envelope, attempt, error);
            // Sleeping or waiting is read from its resume (EventStatuses): its row stays the run's.
            case RunOutcome.Suspended:
                return Running(envelope, attempt, startedAt);
            case RunOutcome.Crashed:
                return EventStatusUpdate.DeadLettered(
                    envelope,
                    attempt,
                    error ?? "runner crashed") with
                { StartedAt = startedAt };
            case RunOutcome.Failed or RunOutcome.TimedOut when retry is { } policy:
                return attempt < policy.MaxAttempts
                    ? Again(envelope, attempt, error)
                    : EventStatusUpdate.DeadLettered(
                        envelope,
                        attempt,
                        error ?? "failed") with
                    { StartedAt = startedAt };
        }
        var status = result.Outcome switch
        {
            RunOutcome.Completed => EventStatuses.Completed,
            RunOutcome.TimedOut => EventStatuses.TimedOut,
            RunOutcome.Cancelled => EventStatuses.Cancelled,
            _ => EventStatuses.Failed,
        };
        return new(
            envelope.Canvas,
            envelope.Id,
            envelope.Worker,
            status,
            EventStatuses.FinishedRank,
            attempt,
            envelope.EnqueuedAt,
            StartedAt: startedAt,
            FinishedAt: DateTimeOffset.UtcNow,
            Result: result
                .Result,
            Error: error,
            CanvasIncarnation: envelope.CanvasIncarnation,
            Priority: envelope.Priority);
    }

    /// <summary>
    /// Handler code writes the error: kept up to 2,000 characters, a cut one marked as the trace marks its fields; the
    /// store keeps what PostgreSQL text cannot hold by TenantText's rule.
    /// </summary>
    private static string? Clean(string? error) => error is not { Length: > MaxErrorLength }
        ? error
        : TraceBudget.Cut(error, MaxErrorLength - Marker.Length) + Marker;

    private const string Marker = "… [truncated at 2000 characters]";
}
