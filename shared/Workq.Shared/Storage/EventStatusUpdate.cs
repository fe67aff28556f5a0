using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>
/// One write of an event's status. <c>RestartedAt</c> (a redrive, then) replaces a dead letter made before it;
/// otherwise a write replaces the stored one only if it is further along, so writes that arrive out of order never move
/// an event backwards. <c>CanvasIncarnation</c> is the canvas the write is for (0: the one alive): none lands in a
/// canvas deleted or re-created since. A high or low <c>Priority</c> is kept beside the status, once (API.md
/// "Priorities").
/// </summary>
public sealed record EventStatusUpdate(
    string Canvas,
    Guid Id,
    string Worker,
    string Status,
    short Rank,
    int Attempts,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? RunAt = null,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null,
    string? Result = null,
    string? Error = null,
    DateTimeOffset? RestartedAt = null,
    long CanvasIncarnation = 0,
    Handlers.Messaging.Priority Priority = Handlers.Messaging.Priority.Normal)
{
    /// <param name="restartedAt">When a redrive put the event back: it starts again, at attempt 1, whatever dead letter
    /// was made before.</param>
    public static EventStatusUpdate Queued(
        in EventEnvelope envelope,
        int attempts = 1,
        DateTimeOffset? restartedAt = null,
        string? error = null) =>
        new(
            envelope.Canvas,
            envelope.Id,
            envelope.Worker,
            EventStatuses.Queued,
            EventStatuses.QueuedRank,
            attempts,
            envelope.EnqueuedAt,
            Error: error,
            RestartedAt: restartedAt,
            CanvasIncarnation: envelope.CanvasIncarnation,
            Priority: envelope.Priority);

    public static EventStatusUpdate Scheduled(in EventEnvelope envelope, DateTimeOffset runAt) =>
        new(
            envelope.Canvas,
            envelope.Id,
            envelope.Worker,
            EventStatuses.Scheduled,
            EventStatuses.ScheduledRank,
            1,
            envelope.EnqueuedAt,
            RunAt: runAt,
            CanvasIncarnation: envelope.CanvasIncarnation,
            Priority: envelope.Priority);

    public static EventStatusUpdate DeadLettered(in EventEnvelope envelope, int attempts, string reason) =>
        new(
            envelope.Canvas,
            envelope.Id,
            envelope.Worker,
            EventStatuses.DeadLettered,
            EventStatuses.DeadLetteredRank,
            attempts,
            envelope.EnqueuedAt,
            FinishedAt: DateTimeOffset.UtcNow,
            Error: reason,
            CanvasIncarnation: envelope.CanvasIncarnation,
            Priority: envelope.Priority);

    /// <summary>
    /// The event's message is in the quarantine, as item <paramref name="quarantineId"/>: <c>error</c> says so, and
    /// why.
    /// </summary>
    public static EventStatusUpdate Quarantined(
        string canvas,
        Guid id,
        string worker,
        int attempts,
        DateTimeOffset enqueuedAt,
        long quarantineId,
        string source,
        string error) =>
        new(canvas, id, worker, EventStatuses.Quarantined, EventStatuses
            .QuarantinedRank, attempts, enqueuedAt, FinishedAt: DateTimeOffset.UtcNow,
            Error: Poison.MessageCodec.Clean(
                $"quarantined as item {quarantineId} (GET /v1/quarantine/{quarantineId}), taken from {source}: " +
                    $"{error}"));

    /// <summary>
    /// An event the dispatcher took off its own path (a scheduled event it could not publish, a parked one it could not
    /// replay) is in the quarantine, as item <paramref name="quarantineId"/>.
    /// </summary>
    public static EventStatusUpdate Quarantined(QuarantineEntry entry, long quarantineId) => Quarantined(
        entry.Canvas!,
        entry.EventId!.Value,
        entry.Worker!,
        1,
        DateTimeOffset.UtcNow,
        quarantineId,
        entry.Source,
        entry.Error);

    /// <summary>
    /// The same rule as the store's upsert, so that whatever order writes land in, an event ends in the same status and
    /// a final one (completed, failed, timed out, cancelled, dead-lettered, quarantined) never shows an earlier one:
    /// a dead letter or a quarantined event is replaced only by its redrive (the restart, made after it, or a run that
    /// started after it was parked, whichever lands first), and a quarantined event also replaces its dead letter;
    /// either replaces anything else that did not start after it was parked (a late copy of one that was redriven since
    /// does not); another final state replaces any state that is not final, whatever its attempt, and is replaced by
    /// nothing else; among the states that are not final, the later attempt wins and, within an attempt, the higher
    /// rank.
    /// </summary>
    public bool Supersedes(EventStatusUpdate old) =>
        old.Rank >= EventStatuses.DeadLetteredRank
            ? RestartedAt >= old.FinishedAt || StartedAt > old.FinishedAt || Rank > old.Rank
            : Rank >= EventStatuses.DeadLetteredRank ? !(FinishedAt < old.StartedAt)
        : old.Rank < EventStatuses.FinishedRank
          && (Rank == EventStatuses.FinishedRank || Attempts > old.Attempts
              || (Attempts == old.Attempts && Rank > old.Rank));

    /// <summary>
    /// What a later write leaves of an earlier one it replaced, as the upsert does: the start time and a delayed
    /// event's run time, when it does not know them. A restart keeps nothing: the event starts again.
    /// </summary>
    public EventStatusUpdate After(EventStatusUpdate old) => RestartedAt is not null
        ? this
        : this with { StartedAt = StartedAt ?? old.StartedAt, RunAt = RunAt ?? old.RunAt };
}
