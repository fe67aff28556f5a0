namespace Workq.Bench.Infrastructure;

/// <summary>
/// CPU time of every process on the event path (the services, each worker instance's runner processes, RabbitMQ,
/// PostgreSQL, the bench itself) between two moments, so a scenario can say how many microseconds each spends per
/// event. A service's child processes count with it (control's compilers), except a worker instance's: its runners,
/// which hold the handler code under canvas isolation, are a column of their own (zero with WORKQ_ISOLATION=none).
/// PostgreSQL counts all its backends, other users of the machine's server included.
/// </summary>
public sealed class CpuMeter(BenchCluster cluster)
{
    private Dictionary<string, TimeSpan> start = [];

    public void Start() => start = Read();

    public IReadOnlyList<CpuShare> PerEvent(long events)
    {
        var end = Read();
        return end.Select(e => new CpuShare(
            e.Key,
            Math.Round((e.Value - start.GetValueOrDefault(e.Key)).TotalMicroseconds / events, 1))).ToList();
    }

    private Dictionary<string, TimeSpan> Read()
    {
        var cpu = new Dictionary<string, TimeSpan>();
        var workers = cluster.Workers;
        foreach (var service in cluster.Services.Except(workers))
            cpu[service.Name.ToLowerInvariant()] = service.Sample().Cpu + ProcessSample.ChildrenCpu(service.Id);
        foreach (var (worker, n) in workers.Select((w, i) => (w, i + 1)))
        {
            cpu[worker.Name.ToLowerInvariant()] = worker.Sample().Cpu;
            cpu[n == 1 ? "runners" : $"runners-{n}"] = ProcessSample.ChildrenCpu(worker.Id);
        }
        var broker = BenchCluster.BrokerContainers is { } containers
            ? ProcessSample.FindByCommand("beam.smp", containers)
            : ProcessSample.FindByCommand("beam.smp");
        // Nodes in containers whose processes this machine cannot see (another PID namespace): their CPU is unknown,
        // not zero.
        if (broker.Count > 0) cpu["rabbitmq"] = Sum(broker);
        cpu["postgres"] = Sum(ProcessSample.FindByCommand("postgres"));
        cpu["bench"] = ProcessSample.Of(Environment.ProcessId).Cpu;
        return cpu;
    }

    private static TimeSpan Sum(IEnumerable<int> pids)
        => pids.Aggregate(TimeSpan.Zero, (total, pid) => total + ProcessSample.Of(pid).Cpu);
}
