namespace Workq.Bench.Reporting;

/// <summary>
/// Issue 13's comparison: the passes in the order they ran (canvas, none, canvas: the mode that is measured twice
/// brackets the other, so neither gets a systematically quieter machine), and each mode's mean over its passes.
/// </summary>
public sealed record IsolationResult(
    IReadOnlyList<IsolationPass> Passes,
    double? CanvasBatchPerSecond,
    double? NoneBatchPerSecond,
    double? CanvasOverRaw,
    double? NoneOverRaw,
    double? CanvasWaitP50,
    double? NoneWaitP50,
    double? CanvasWaitP99,
    double? NoneWaitP99)
{
    public static IsolationResult Of(IReadOnlyList<IsolationPass> passes, Throughput? raw)
    {
        double? Mean(string isolation, Func<IsolationPass, double?> figure) =>
            passes.Where(p => p.Isolation == isolation).Select(figure).OfType<double>().Where(double.IsFinite)
                .ToList() is { Count: > 0 } values
                ? Math.Round(values.Average(), 2)
                : null;
        double? OverRaw(double? perSecond)
            => perSecond is { } p && raw is { PerSecond: > 0 } r ? Math.Round(p / r.PerSecond, 3) : null;
        var canvas = Mean("canvas", p => p.Batch?.Run.PerSecond);
        var none = Mean("none", p => p.Batch?.Run.PerSecond);
        return new IsolationResult(passes, canvas, none, OverRaw(canvas), OverRaw(none),
            Mean("canvas", p => p.QuarterWait?.Reported.P50), Mean("none", p => p.QuarterWait?.Reported.P50),
            Mean("canvas", p => p.QuarterWait?.Reported.P99), Mean("none", p => p.QuarterWait?.Reported.P99));
    }
}
