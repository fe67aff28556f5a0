namespace Workq.Bench.Reporting;

/// <summary>
/// Queue wait of the first event on a canvas without a runner, and of the warm events right after; the warm runners'
/// VmRSS.
/// </summary>
public sealed record ColdStartResult(
    Latencies Cold,
    Latencies Warm,
    IReadOnlyList<double> ColdMs,
    double RunnerRssMedianMb,
    double RunnerRssMaxMb,
    IReadOnlyList<double> RunnerRssMb,
    double WorkerRssMb,
    int WarmEventsPerCanvas);
