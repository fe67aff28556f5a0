namespace Workq.Bench.Reporting;

/// <summary>
/// Scenario 12: <c>High</c> high events emitted behind <c>Normal</c> queued normal ones at concurrency 1. The last
/// position a high one started at (0-based; the goal: at most 10), and when the runs started after the resume: the
/// last high one, the median and the last normal one.
/// </summary>
public sealed record PriorityResult(
    int Normal,
    int High,
    int LastHighPosition,
    double LastHighStartMs,
    double NormalMedianStartMs,
    double LastNormalStartMs);
