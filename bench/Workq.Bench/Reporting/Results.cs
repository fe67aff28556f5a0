namespace Workq.Bench.Reporting;

/// <summary>Messages moved end to end (published, confirmed, consumed, acked) and how long it took.</summary>
public sealed record Throughput(long Messages, double Seconds, double PublishSeconds)
{
    public double PerSecond => Math.Round(Messages / Seconds, 1);
}

/// <summary>CPU time each process spent per event during a scenario, in microseconds: where the work goes.</summary>
public sealed record CpuShare(string Process, double MicrosPerEvent);

public sealed record BatchResult(Throughput Run, double EmitPerSecond, IReadOnlyList<CpuShare> Cpu);

public sealed record SingleResult(long Requests, double Seconds, int Errors, Latencies Latency)
{
    public double PerSecond => Math.Round(Requests / Seconds, 1);
}

/// <summary>
/// Queue wait two ways: every event as its handler reported it, and the runner's own queueWaitMs from sampled
/// traces; and, as the floor, plain RabbitMQ.Client publishing to a consumer at the same rate.
/// </summary>
public sealed record WaitResult(
    double TargetPerSecond,
    double AchievedPerSecond,
    Latencies Reported,
    Latencies Traced,
    double MachineBusy,
    IReadOnlyList<CpuShare> Cpu,
    Latencies? Raw = null);

public sealed record ScaleResult(
    int Canvases,
    int Workers,
    double DeploySeconds,
    double AllConsumingSeconds,
    double WorkerRssBeforeMb,
    double WorkerRssAfterMb,
    int ListWorkers,
    Latencies List,
    Throughput Spread,
    double DeleteSeconds);

/// <summary>One pass of scenarios 3 and 5b with the worker service in one <c>WORKQ_ISOLATION</c> mode.</summary>
public sealed record IsolationPass(string Isolation, BatchResult? Batch, WaitResult? QuarterWait, double? BatchOverRaw);

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

/// <summary>
/// Scenario 3 with <paramref name="Instances"/> worker instances on the same queues, and how busy the machine was: the
/// CPU time of every process on the event path over the run's cores, null when the broker's processes could not be
/// seen.
/// </summary>
public sealed record InstancesPass(int Instances, BatchResult Batch, double? MachineBusy)
{
    public static InstancesPass Of(int instances, BatchResult batch) =>
        new(instances, batch, batch.Cpu.Any(c => c.Process == "rabbitmq")
            ? Math.Round(
                batch.Cpu.Sum(c => c.MicrosPerEvent) * batch.Run.PerSecond / 1e6 / Environment.ProcessorCount,
                2)
            : null);
}

/// <summary>
/// Issue 14: batch throughput by worker instance count, on <paramref name="Broker"/> (<c>local</c> or <c>cluster</c>)
/// of <paramref name="BrokerNodes"/> nodes.
/// </summary>
public sealed record InstancesResult(string Broker, int BrokerNodes, IReadOnlyList<InstancesPass> Passes);

/// <summary>
/// One pass of scenario 9: runner processes with the OS sandbox off or on (<paramref name="Sandbox"/>).
/// </summary>
public sealed record WallsPass(string Sandbox, BatchResult Batch, Latencies Http, ColdStartResult ColdStart);

/// <summary>
/// Scenario 9: the passes, and the Http probe with handler code in the worker service (nothing relayed).
/// </summary>
public sealed record WallsResult(IReadOnlyList<WallsPass> Passes, Latencies InProcessHttp)
{
    public WallsPass? Off => Passes.FirstOrDefault(p => p.Sandbox == "off");
    public WallsPass? On => Passes.FirstOrDefault(p => p.Sandbox != "off");
}

public sealed record Target(string What, string Goal, string Measured, bool? Met);

public sealed record Machine(
    int Cores,
    long MemoryMb,
    string Os,
    string Kernel,
    string DotNet,
    string LoadAverageAtStart,
    string Note);

public sealed record BenchReport(
    DateTimeOffset StartedAt,
    double TotalSeconds,
    Machine Machine,
    BenchOptions Options,
    Throughput? Raw,
    Throughput? MassTransit,
    BatchResult? Batch,
    SingleResult? Single,
    WaitResult? Wait,
    WaitResult? LightWait,
    ScaleResult? Scale,
    ColdStartResult? ColdStart,
    IsolationResult? Isolation,
    double? WorkqOverRaw,
    double? WorkqOverMassTransit,
    IReadOnlyList<Target> Targets,
    IReadOnlyList<Target> RunnerBudget,
    IReadOnlyDictionary<string, string> Failures,
    InstancesResult? Instances,
    WallsResult? Walls = null,
    IReadOnlyList<Target>? WallsBudget = null);
