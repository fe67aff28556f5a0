namespace Workq.Bench.Reporting;

/// <summary>
/// Scenario 9: the passes, and the Http probe with handler code in the worker service (nothing relayed).
/// </summary>
public sealed record WallsResult(IReadOnlyList<WallsPass> Passes, Latencies InProcessHttp)
{
    public WallsPass? Off => Passes.FirstOrDefault(p => p.Sandbox == "off");
    public WallsPass? On => Passes.FirstOrDefault(p => p.Sandbox != "off");
}
