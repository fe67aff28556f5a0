namespace Workq.Client;

/// <summary>
/// <c>Queued</c>, <c>InFlight</c> and <c>Consumers</c> come from the broker; <c>Sleeping</c> and <c>Waiting</c> count
/// the events whose run ended in a <c>Sleep</c> or a <c>WaitFor</c> and are not due yet (0 from a server older than
/// them); <c>QueuedByPriority</c> splits <c>Queued</c> (null from a server older than priorities); the rest are totals
/// since the worker was created.
/// </summary>
public sealed record WorkerStats(
    long Queued,
    long InFlight,
    long Processed,
    long Failed,
    long DeadLettered,
    long Consumers,
    long Sleeping = 0,
    long Waiting = 0,
    QueuedByPriority? QueuedByPriority = null);
