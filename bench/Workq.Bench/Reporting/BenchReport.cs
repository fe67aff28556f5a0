namespace Workq.Bench.Reporting;

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
    IReadOnlyList<Target>? WallsBudget = null)
{
    /// <summary>
    /// Scenario 3's first pass, on services started seconds before; <see cref="Batch"/> is the warm one.
    /// </summary>
    public BatchResult? ColdBatch { get; init; }
    /// <summary>Scenario 3 with every event in a batch (3b, issue 28), run right after the warm pass.</summary>
    public BatchResult? InBatches { get; init; }
    /// <summary>Scenario 10 (issue 28): a 100,000-event batch and its callback.</summary>
    public BigBatchResult? BigBatch { get; init; }
    public DurableResult? Durable { get; init; }
    public PriorityResult? Priorities { get; init; }
    /// <summary>Scenario 5 at three quarters of scenario 3's rate (5c).</summary>
    public WaitResult? HeavyWait { get; init; }
    /// <summary>Scenario 5 at half load, the events emitted from a second process (5e).</summary>
    public WaitResult? ExternalWait { get; init; }
    /// <summary>Issue 27's goals, each against its figure.</summary>
    public IReadOnlyList<Target> Goals { get; init; } = [];
}
