using Workq.Bench.Reporting;

namespace Workq.Bench.Infrastructure;

/// <summary>
/// CPU time of every process on the event path (the four services, the worker's runner processes, RabbitMQ, PostgreSQL,
/// the bench itself) between two moments, so a scenario can say how many microseconds each spends per event.
/// A service's child processes count with it (control's compilers), except the worker's: its runners, which hold the
/// handler code under canvas isolation, are a column of their own (zero with WORKQ_ISOLATION=none).
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
        var cpu = new Dictionary<string, TimeSpan>();
        foreach (var service in cluster.Services)
        {
            var children = ProcessSample.ChildrenCpu(service.ProcessId);
            var isWorker = service == cluster.Worker;
            cpu[service.Name.ToLowerInvariant()] = service.Sample().Cpu + (isWorker ? TimeSpan.Zero : children);
            if (isWorker) cpu["runners"] = children;
        }
        cpu["rabbitmq"] = Sum("beam.smp");
        cpu["postgres"] = Sum("postgres");
        cpu["bench"] = ProcessSample.Of(Environment.ProcessId).Cpu;
        return cpu;
    }

    private static TimeSpan Sum(string command) =>
        ProcessSample.FindByCommand(command).Aggregate(TimeSpan.Zero, (total, pid) => total + ProcessSample.Of(pid).Cpu);
}
