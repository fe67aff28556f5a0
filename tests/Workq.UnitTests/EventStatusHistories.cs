using Workq.Shared.Storage;

namespace Workq.Testing;

/// <summary>
/// What can happen to one event, as the status writes it makes, in the order they are made: the writers (emitter,
/// worker, dispatcher, control) flush independently, so they may land in any order. Whatever the order, the event must
/// end in the status of the history's last write (Statuses never go back). Shared by the unit test of the rule in
/// memory (<see cref="EventStatusUpdate.Supersedes"/>) and the store test of the same rule in the upsert.
/// </summary>
public static class EventStatusHistories
{
    /// <summary>When the event was emitted.</summary>
    public static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>One status write of the event ("c"/"w", id 0) emitted <see cref="At"/>.</summary>
    public static EventStatusUpdate Update(
        string status,
        short rank,
        int attempts,
        DateTimeOffset? startedAt = null,
        DateTimeOffset? finishedAt = null,
        DateTimeOffset? restartedAt = null,
        DateTimeOffset? runAt = null) =>
        new(
            "c",
            Guid.Empty,
            "w",
            status,
            rank,
            attempts,
            At,
            RunAt: runAt,
            StartedAt: startedAt,
            FinishedAt: finishedAt,
            RestartedAt: restartedAt);

    private static EventStatusUpdate Write(
        string status,
        short rank,
        int attempts,
        int? startedAt = null,
        int? finishedAt = null,
        int? restartedAt = null,
        int? runAt = null) =>
        Update(status, rank, attempts, Seconds(startedAt), Seconds(finishedAt), Seconds(restartedAt), Seconds(runAt));

    private static DateTimeOffset? Seconds(int? seconds) => seconds is { } s ? At.AddSeconds(s) : null;

    // One event's writes; the numbers are seconds after its emit.
    private static readonly EventStatusUpdate Scheduled = Write(
        EventStatuses.Scheduled,
        EventStatuses.ScheduledRank,
        1,
        runAt: 60);
    private static readonly EventStatusUpdate Queued = Write(EventStatuses.Queued, EventStatuses.QueuedRank, 1);
    private static readonly EventStatusUpdate CancelRequest = Write(
        EventStatuses.Cancelled,
        EventStatuses.CancelRequestRank,
        1,
        finishedAt: 1);
    /// <summary>An un-enqueue that removed the delayed event from the table: it can never run.</summary>
    private static readonly EventStatusUpdate CancelledForGood = Write(
        EventStatuses.Cancelled,
        EventStatuses.FinishedRank,
        1,
        finishedAt: 1);
    /// <summary>The worker reached an un-enqueued event and skipped it.</summary>
    private static readonly EventStatusUpdate Skipped = Write(
        EventStatuses.Cancelled,
        EventStatuses.FinishedRank,
        1,
        finishedAt: 2);
    private static readonly EventStatusUpdate Running1 = Write(
        EventStatuses.Running,
        EventStatuses.RunningRank,
        1,
        startedAt: 2);
    private static readonly EventStatusUpdate Completed1 = Write(
        EventStatuses.Completed,
        EventStatuses.FinishedRank,
        1,
        startedAt: 2,
        finishedAt: 3);
    private static readonly EventStatusUpdate Retry = Write(EventStatuses.Queued, EventStatuses.QueuedRank, 2);
    private static readonly EventStatusUpdate Running2 = Write(
        EventStatuses.Running,
        EventStatuses.RunningRank,
        2,
        startedAt: 10);
    private static readonly EventStatusUpdate Completed2 = Write(
        EventStatuses.Completed,
        EventStatuses.FinishedRank,
        2,
        startedAt: 10,
        finishedAt: 11);
    private static readonly EventStatusUpdate DeadLettered = Write(
        EventStatuses.DeadLettered,
        EventStatuses.DeadLetteredRank,
        2,
        finishedAt: 12);
    /// <summary>The redrive's restart, then the redriven run (it starts after the dead letter was made).</summary>
    private static readonly EventStatusUpdate Restart = Write(
        EventStatuses.Queued,
        EventStatuses.QueuedRank,
        1,
        restartedAt: 15);
    private static readonly EventStatusUpdate Redriven = Write(
        EventStatuses.Running,
        EventStatuses.RunningRank,
        1,
        startedAt: 20);
    private static readonly EventStatusUpdate RedrivenCompleted = Write(
        EventStatuses.Completed,
        EventStatuses.FinishedRank,
        1,
        startedAt: 20,
        finishedAt: 21);
    private static readonly EventStatusUpdate DeadAgain = Write(
        EventStatuses.DeadLettered,
        EventStatuses.DeadLetteredRank,
        1,
        startedAt: 20,
        finishedAt: 22);
    /// <summary>A second delivery of an event that completed (its ack was lost): at least once.</summary>
    private static readonly EventStatusUpdate Duplicate = Write(
        EventStatuses.Running,
        EventStatuses.RunningRank,
        2,
        startedAt: 4);

    /// <summary>Each history by name, its writes in the order they are made, and the status it ends in.</summary>
    public static readonly IReadOnlyList<(string Name, EventStatusUpdate[] Writes, string Ends)> All =
    [
        ("a delayed emit un-enqueued at once: emit against cancel", [Scheduled, CancelledForGood], EventStatuses
            .Cancelled),
        ("an emit un-enqueued while queued", [Queued, CancelRequest], EventStatuses.Cancelled),
        ("an un-enqueued event its worker skips", [Queued, CancelRequest, Skipped], EventStatuses.Cancelled),
        ("an un-enqueue that comes after the run started", [Queued, Running1, CancelRequest, Completed1], EventStatuses
            .Completed),
        ("a delayed event that runs", [Scheduled, Queued, Running1, Completed1], EventStatuses.Completed),
        ("a run, retried once", [Queued, Running1, Retry, Running2, Completed2], EventStatuses.Completed),
        ("a completed event delivered again", [Queued, Running1, Completed1, Duplicate], EventStatuses.Completed),
        ("retries exhausted", [Running1, Retry, Running2, DeadLettered], EventStatuses.DeadLettered),
        ("a dead letter redriven, that runs: run against redrive",
            [Running2, DeadLettered, Restart, Redriven, RedrivenCompleted], EventStatuses.Completed),
        ("a dead letter redriven, running", [DeadLettered, Restart, Redriven], EventStatuses.Running),
        ("a dead letter redriven, dead-lettered again", [DeadLettered, Restart, Redriven, DeadAgain], EventStatuses
            .DeadLettered),
    ];

    /// <summary>Every order of the writes.</summary>
    public static IEnumerable<EventStatusUpdate[]> Orders(EventStatusUpdate[] writes)
    {
        if (writes.Length <= 1)
        {
            yield return writes;
            yield break;
        }
        for (var i = 0; i < writes.Length; i++)
            foreach (var rest in Orders([.. writes[..i], .. writes[(i + 1)..]]))
                yield return [writes[i], .. rest];
    }
}
