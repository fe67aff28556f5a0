using Workq.Bench.Infrastructure;

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
public sealed record WaitResult(double TargetPerSecond, double AchievedPerSecond, Latencies Reported, Latencies Traced, double MachineBusy, IReadOnlyList<CpuShare> Cpu, Latencies? Raw = null);

public sealed record ScaleResult(int Canvases, int Workers, double DeploySeconds, double AllConsumingSeconds, double WorkerRssBeforeMb,
    double WorkerRssAfterMb, int ListWorkers, Latencies List, Throughput Spread, double DeleteSeconds);

public sealed record Target(string What, string Goal, string Measured, bool? Met);

public sealed record Machine(int Cores, long MemoryMb, string Os, string Kernel, string DotNet, string LoadAverageAtStart, string Note);

public sealed record BenchReport(DateTimeOffset StartedAt, double TotalSeconds, Machine Machine, BenchOptions Options, Throughput? Raw,
    Throughput? MassTransit, BatchResult? Batch, SingleResult? Single, WaitResult? Wait, WaitResult? LightWait, ScaleResult? Scale,
    double? WorkqOverRaw, double? WorkqOverMassTransit, IReadOnlyList<Target> Targets, IReadOnlyDictionary<string, string> Failures);
