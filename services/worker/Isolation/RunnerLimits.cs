namespace Workq.Worker.Isolation;

/// <summary>What bounds one runner process through its cgroup.</summary>
/// <param name="Cpus">CPU quota in cores (<c>WORKQ_RUNNER_CPUS</c>).</param>
/// <param name="MemoryMegabytes">The whole process's memory, native memory, stacks and its private /tmp included,
/// without swap (<c>WORKQ_RUNNER_MEMORY_MB</c>).</param>
/// <param name="Pids">Tasks (processes and threads, bwrap's included) at once (<c>WORKQ_RUNNER_PIDS</c>).</param>
public sealed record RunnerLimits(double Cpus, int MemoryMegabytes, int Pids);
