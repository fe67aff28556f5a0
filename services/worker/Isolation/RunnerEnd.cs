namespace Workq.Worker.Isolation;

/// <summary>
/// What is known when a runner process has ended: why we killed it (null: we did not), what it sent that broke the
/// protocol, what its stderr said, its exit code, and whether its memory cgroup's OOM killer ended it.
/// </summary>
public sealed record RunnerEnd(
    string KillReason,
    string? ProtocolBreak,
    bool StackOverflow,
    bool OutOfMemory,
    IReadOnlyList<string> Stderr,
    int ExitCode,
    int MemoryMegabytes,
    bool MemoryCgroupKill = false);
