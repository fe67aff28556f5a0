namespace Workq.Bench.Reporting;

/// <summary>Scenario 3: throughput, and the CPU and allocations per event of each process.</summary>
public sealed record BatchResult(
    Throughput Run,
    double EmitPerSecond,
    IReadOnlyList<CpuShare> Cpu,
    IReadOnlyList<AllocationShare>? Allocated = null);
