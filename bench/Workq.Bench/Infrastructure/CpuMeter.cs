using Workq.Bench.Reporting;

namespace Workq.Bench.Infrastructure;

/// <summary>
/// CPU time of every process on the event path (the four services, RabbitMQ, PostgreSQL, the bench
/// itself) between two moments, so a scenario can say how many microseconds each spends per event.
/// PostgreSQL counts all its backends, other users of the machine's server included.
/// </summary>
public sealed class CpuMeter(BenchCluster cluster)
{
    private Dictionary<string, TimeSpan> start = [];

    public void Start() => start = Read();

    public IReadOnlyList<CpuShare> PerEvent(long events)
    {
        var end = Read();
        return end.Select(e => new CpuShare(e.Key, Math.Round((e.Value - start.GetValueOrDefault(e.Key)).TotalMicroseconds / events, 1))).ToList();
    }

    private Dictionary<string, TimeSpan> Read()
    {
        var cpu = cluster.Services.ToDictionary(s => s.Name.ToLowerInvariant(), s => s.Sample().Cpu);
        cpu["rabbitmq"] = Sum("beam.smp");
        cpu["postgres"] = Sum("postgres");
        cpu["bench"] = ProcessSample.Of(Environment.ProcessId).Cpu;
        return cpu;
    }

    private static TimeSpan Sum(string command) =>
        ProcessSample.FindByCommand(command).Aggregate(TimeSpan.Zero, (total, pid) => total + ProcessSample.Of(pid).Cpu);
}
