namespace Workq.Bench.Reporting;

public sealed record SingleResult(
    long Requests,
    double Seconds,
    int Errors,
    Latencies Latency,
    IReadOnlyList<CpuShare> Cpu)
{
    public double PerSecond => Math.Round(Requests / Seconds, 1);
}
