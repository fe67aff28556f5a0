namespace Workq.Control.Apis;

/// <summary>
/// <c>scheduled</c>: delayed emits waiting for their time (not yet in the queue, so not in <c>queued</c>).
/// <c>sleeping</c> and <c>waiting</c>: durable events whose run ended in a <c>Sleep</c> or a <c>WaitFor</c>, not due
/// yet (API.md "Durable handlers").
/// </summary>
public sealed record WorkerStatsView(
    long Queued,
    long InFlight,
    long Processed,
    long Failed,
    long DeadLettered,
    long Consumers,
    long Scheduled,
    long Sleeping = 0,
    long Waiting = 0,
    QueuedByPriority? QueuedByPriority = null);

