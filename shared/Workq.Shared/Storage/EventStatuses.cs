namespace Workq.Shared.Storage;

/// <summary>
/// The states of API.md's event status, with the order a write must follow to replace another (see <see
/// cref="EventStatusUpdate.Supersedes"/>).
/// </summary>
public static class EventStatuses
{
    public const string Scheduled = "scheduled", Queued = "queued", Running = "running", Completed = "completed", Failed
        = "failed",
        TimedOut = "timedOut", Cancelled = "cancelled", DeadLettered = "deadLettered", Quarantined = "quarantined",
        Sleeping = "sleeping", Waiting = "waiting";

    /// <summary>
    /// Ranks: scheduled 5, queued 10, cancelled by control 15 (a run that had already started still wins), running 20,
    /// finished 30, dead-lettered 40, quarantined 45 (the dispatcher could not keep the dead letter the worker
    /// reported). From 40 on, the event is parked outside any queue, and only its redrive moves it on.
    /// </summary>
    public const short ScheduledRank = 5, QueuedRank = 10, CancelRequestRank = 15, RunningRank = 20, FinishedRank
        = 30, DeadLetteredRank = 40,
        QuarantinedRank = 45;

    /// <summary>
    /// Sleeping and waiting are not stored as ranks: they are read from the event's resume, in <c>scheduled_events</c>,
    /// over the row of its run (API.md "Durable handlers").
    /// </summary>
    public static bool IsFinal(string status) => status is not (Scheduled or Queued or Running or Sleeping or Waiting);
}
