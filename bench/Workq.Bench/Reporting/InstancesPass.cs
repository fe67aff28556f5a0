namespace Workq.Bench.Reporting;

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
