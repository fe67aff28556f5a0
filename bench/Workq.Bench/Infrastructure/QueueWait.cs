namespace Workq.Bench.Infrastructure;

/// <summary>
/// One event's queue wait as its handler reported it, and when it was enqueued (Unix milliseconds; 0 when not given).
/// </summary>
public readonly record struct QueueWait(double Milliseconds, long EnqueuedAt);
