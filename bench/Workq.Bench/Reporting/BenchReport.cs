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
    IReadOnlyList<Target>? WallsBudget = null);
