namespace Workq.Tests.Models;

/// <summary>
/// One step of a worker's or a canvas's metrics (API.md "Metrics"): counts by the step a run finished in; the
/// percentiles are null in a step without runs.
/// </summary>
public sealed record MetricsPoint(
    DateTimeOffset At,
    long Processed,
    long Failed,
    long TimedOut,
    long DeadLettered,
    long Emitted,
    MetricsPoint.Percentiles QueueWaitMs,
    MetricsPoint.Percentiles DurationMs)
{
    public sealed record Percentiles(double? P50, double? P95, double? P99);
}
