namespace Workq.Bench.Reporting;

public sealed record BatchResult(Throughput Run, double EmitPerSecond, IReadOnlyList<CpuShare> Cpu);
