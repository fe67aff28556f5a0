namespace Workq.Shared.Storage;

/// <summary>One point of the metrics API: the step starting at <c>At</c>.</summary>
public sealed record MetricsPoint(
    DateTimeOffset At,
    long Processed,
    long Failed,
    long TimedOut,
    long DeadLettered,
    long Emitted,
    Percentiles QueueWaitMs,
    Percentiles DurationMs);
