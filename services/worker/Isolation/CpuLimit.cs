using System.Globalization;

namespace Workq.Worker.Isolation;

/// <summary>
/// A cgroup per runner with a CPU quota (<c>WORKQ_RUNNER_CPUS</c>), where this machine lets the worker service create
/// one: cgroup v2's <c>cpu.max</c>, or v1's <c>cpu.cfs_quota_us</c>. Where neither is writable, runners run at a lower
/// priority only, and the time-out watchdog is what stops a spinning handler.
/// </summary>
public sealed class RunnerCgroups : IDisposable
{
    private const int Period = 100_000;
    private readonly string parent;
    private readonly bool v2;
    private readonly int quota;
    private int created;

    private RunnerCgroups(string parent, bool v2, double cpus)
    {
        this.parent = parent;
        this.v2 = v2;
        quota = (int)Math.Max(1_000, cpus * Period);
    }

    public string Kind => v2 ? "cgroup v2 cpu.max" : "cgroup v1 cpu.cfs_quota_us";

    /// <summary>A parent cgroup of this worker instance's runners, or null when none can be made here.</summary>
    public static RunnerCgroups? TryCreate(double cpus, ILogger logger)
    {
        var name = $"workq-runners-{Environment.ProcessId}";
        foreach (var (root, v2) in Candidates())
        {
            RemoveLeftovers(root);
            var parent = Path.Combine(root, name);
            try
            {
                Directory.CreateDirectory(parent);
                if (v2) File.WriteAllText(Path.Combine(parent, "cgroup.subtree_control"), "+cpu");
                return new RunnerCgroups(parent, v2, cpus);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogDebug("No runner cgroup under {Root}: {Reason}", root, e.Message);
                TryDelete(parent);
            }
        }
        return null;
    }

    // A worker instance killed with -9 leaves its (empty) cgroups behind: removed by the next one to start.
    private static void RemoveLeftovers(string root)
    {
        try
        {
            foreach (var stale in Directory.EnumerateDirectories(root, "workq-runners-*"))
            {
                if (int.TryParse(Path.GetFileName(stale)["workq-runners-".Length..], out var pid) && Directory.Exists($"/proc/{pid}")) continue;
                foreach (var runner in Directory.EnumerateDirectories(stale)) TryDelete(runner);
                TryDelete(stale);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not ours to list: nothing to clean.
        }
    }

    private static IEnumerable<(string Root, bool V2)> Candidates()
    {
        // v2: the cgroup this process is in, when the unified hierarchy is mounted at /sys/fs/cgroup and has the cpu controller.
        if (File.Exists("/sys/fs/cgroup/cgroup.controllers") && File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Contains("cpu", StringComparison.Ordinal)
            && File.ReadLines("/proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal)) is { } own)
            yield return (Path.Join("/sys/fs/cgroup", own[3..]), true);
        if (File.Exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) yield return ("/sys/fs/cgroup/cpu", false);
    }

    /// <summary>Moves the runner into a cgroup of its own with the quota; null (and a warning) when that fails.</summary>
    public CpuLimit? Limit(string canvas, int pid, ILogger logger)
    {
        var path = Path.Combine(parent, $"{canvas}-{Interlocked.Increment(ref created)}");
        try
        {
            Directory.CreateDirectory(path);
            if (v2) File.WriteAllText(Path.Combine(path, "cpu.max"), $"{quota} {Period}");
            else
            {
                File.WriteAllText(Path.Combine(path, "cpu.cfs_period_us"), Period.ToString(CultureInfo.InvariantCulture));
                File.WriteAllText(Path.Combine(path, "cpu.cfs_quota_us"), quota.ToString(CultureInfo.InvariantCulture));
            }
            File.WriteAllText(Path.Combine(path, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            return new CpuLimit(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Runner {Pid} of canvas {Canvas} has no CPU quota: {Reason}", pid, canvas, e.Message);
            TryDelete(path);
            return null;
        }
    }

    public void Dispose() => TryDelete(parent);

    internal static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still holds a process, or was never ours: the system removes empty ones at the next boot.
        }
    }
}

/// <summary>One runner's cgroup, removed once the runner has exited.</summary>
public sealed class CpuLimit(string path) : IDisposable
{
    public void Dispose() => RunnerCgroups.TryDelete(path);
}
