namespace Workq.Bench.Reporting;

/// <summary>
/// The raw client's queue wait at a rate (the floor under scenario 5), and where its slow stretches were.
/// </summary>
public sealed record FloorResult(Latencies Waits, WaitTimeline Timeline);
