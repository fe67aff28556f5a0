namespace Workq.Bench.Reporting;

/// <summary>
/// One pass of scenario 9: runner processes with the OS sandbox off or on (<paramref name="Sandbox"/>).
/// </summary>
public sealed record WallsPass(string Sandbox, BatchResult Batch, Latencies Http, ColdStartResult ColdStart);
