namespace Workq.Control.Apis;

/// <summary>
/// <c>scheduled</c>: delayed emits waiting for their time (not yet in the queue, so not in <c>queued</c>).
/// </summary>
public sealed record WorkerStatsView(
    long Queued,
    long InFlight,
    long Processed,
    long Failed,
    long DeadLettered,
    long Consumers,
    long Scheduled);
