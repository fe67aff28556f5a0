namespace Workq.Client;

/// <summary>
/// <c>Queued</c>, <c>InFlight</c> and <c>Consumers</c> come from the broker; the rest are totals since the worker was
/// created.
/// </summary>
public sealed record WorkerStats(
    long Queued,
    long InFlight,
    long Processed,
    long Failed,
    long DeadLettered,
    long Consumers);
