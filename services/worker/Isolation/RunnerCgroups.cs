using System.Collections.Concurrent;
using System.Globalization;

namespace Workq.Worker.Isolation;

/// <summary>
/// A cgroup per runner with its <see cref="RunnerLimits"/>, where this machine lets the worker service create one:
/// cgroup v2 (one hierarchy, under the worker's own cgroup) or v1 (one hierarchy per controller, under the worker's own
/// cgroup in each, else the hierarchy's root). Controllers that cannot be used here are left out and named in <see
/// cref="Kind"/>. Where none is writable runners run at a lower priority only, and the heap limit, the time-out
/// watchdog and the sandbox's seccomp filter (no fork) are what bound them.
/// </summary>
public sealed class RunnerCgroups : IDisposable
{
    private const int Period = 100_000;
    private const string Prefix = "workq-runners-";
    private static readonly string[] Wanted = ["cpu", "memory", "pids"];

    private readonly IReadOnlyList<Hierarchy> hierarchies;
    private readonly RunnerLimits limits;
    // Cgroups of runners that have ended but still held a dying process when their runner was settled (its bwrap is
    // reaped first, and the runner itself a moment later, by whoever inherits it): removed by RemoveEnded once empty.
    private readonly ConcurrentQueue<string> ended = new();
    private int created;

    private RunnerCgroups(IReadOnlyList<Hierarchy> hierarchies, RunnerLimits limits)
    {
        this.hierarchies = hierarchies;
        this.limits = limits;
    }

    /// <summary>For the log: the version and the controllers in force, e.g. "cgroup v1 (cpu, memory, pids)".</summary>
    public string Kind => $"cgroup {(hierarchies[0].V2 ? "v2" : "v1")} ({string.Join(", ", hierarchies.SelectMany(h
        => h.Controllers))})";

    /// <summary>Whether a runner's memory is capped by its cgroup (then the GC heap limit is a share of it).</summary>
    public bool LimitsMemory => hierarchies.Any(h => h.Controllers.Contains("memory"));

    /// <summary>The parent cgroups of this worker instance's runners, or null when none can be made here.</summary>
    public static RunnerCgroups? TryCreate(RunnerLimits limits, ILogger logger)
    {
        var name = Prefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        if (V2Root() is { } unified)
        {
            RemoveLeftovers(unified);
            var parent = Path.Combine(unified, name);
            try
            {
                Directory.CreateDirectory(parent);
                var available = File.ReadAllText(Path.Combine(parent, "cgroup.controllers"))
                    .Split(' ', StringSplitOptions.TrimEntries);
                var controllers = Wanted.Where(available.Contains).ToList();
                foreach (var controller in controllers) File.WriteAllText(
                    Path.Combine(parent, "cgroup.subtree_control"),
                    "+" + controller);
                if (controllers.Count > 0) return new RunnerCgroups([new Hierarchy(parent, true, controllers)], limits);
                TryDelete(parent);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogDebug("No runner cgroup under {Root}: {Reason}", unified, e.Message);
                TryDelete(parent);
            }
        }
        var v1 = new List<Hierarchy>();
        foreach (var controller in Wanted)
        {
            foreach (var root in V1Roots(controller))
            {
                RemoveLeftovers(root);
                var parent = Path.Combine(root, name);
                try
                {
                    Directory.CreateDirectory(parent);
                    v1.Add(new Hierarchy(parent, false, [controller]));
                    break;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    logger.LogDebug(
                        "No runner {Controller} cgroup under {Root}: {Reason}",
                        controller,
                        root,
                        e.Message);
                    TryDelete(parent);
                }
            }
        }
        return v1.Count > 0 ? new RunnerCgroups(v1, limits) : null;
    }

    // v2: the cgroup this process is in, when the unified hierarchy is mounted at /sys/fs/cgroup (not a hybrid's
    // /unified, which has no controllers).
    private static string? V2Root() =>
        File.Exists("/sys/fs/cgroup/cgroup.controllers")
        && File.ReadLines("/proc/self/cgroup")
            .FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal)) is { } own
            ? Path.Join("/sys/fs/cgroup", own[3..])
            : null;

    // v1: the controller's hierarchy at this process's own cgroup in it (the one its limits already bound), else at its
    // root.
    private static IEnumerable<string> V1Roots(string controller)
    {
        var mount = Path.Combine("/sys/fs/cgroup", controller);
        if (!File.Exists(Path.Combine(mount, "cgroup.procs"))) yield break;
        var own = File.ReadLines("/proc/self/cgroup").Select(l => l.Split(':', 3))
            .FirstOrDefault(p => p.Length == 3 && p[1].Split(',').Contains(controller))?[2];
        if (own is { Length: > 1 } && Directory.Exists(Path.Join(mount, own))) yield return Path.Join(mount, own);
        yield return mount;
    }

    // A worker instance killed with -9 leaves its cgroups behind, with a runner still in one at worst: ended and
    // removed by the next to start.
    private static void RemoveLeftovers(string root)
    {
        try
        {
            foreach (var stale in Directory.EnumerateDirectories(root, Prefix + "*"))
            {
                if (int.TryParse(Path.GetFileName(stale)[Prefix.Length..], out var pid)
                    && Directory.Exists($"/proc/{pid}")) continue;
                foreach (var runner in Directory.EnumerateDirectories(stale)) RunnerCgroup.End(runner);
                TryDelete(stale);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not ours to list: nothing to clean.
        }
    }

    /// <summary>
    /// A cgroup of its own for a runner about to start, with the limits written: the runner's launch joins it before
    /// bwrap starts (<see cref="RunnerCgroup.ProcsFiles"/>), so nothing of it runs unbounded. Null (and a warning) when
    /// that fails.
    /// </summary>
    public RunnerCgroup? Create(string canvas, ILogger logger)
    {
        var leaf = $"{canvas}-{Interlocked.Increment(ref created)}";
        var paths = new List<string>();
        string? memory = null;
        try
        {
            foreach (var hierarchy in hierarchies)
            {
                var path = Path.Combine(hierarchy.Path, leaf);
                Directory.CreateDirectory(path);
                paths.Add(path);
                foreach (var controller in hierarchy.Controllers)
                {
                    Limit(path, hierarchy.V2, controller);
                    if (controller == "memory") memory = path;
                }
            }
            return new RunnerCgroup(
                this,
                paths,
                memory,
                hierarchies.Any(h => h.Controllers.Contains("cpu")),
                hierarchies[0].V2);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Runner of canvas {Canvas} has no cgroup limits: {Reason}", canvas, e.Message);
            foreach (var path in paths) TryDelete(path);
            return null;
        }
    }

    private void Limit(string path, bool v2, string controller)
    {
        var quota = (int)Math.Max(1_000, limits.Cpus * Period);
        var bytes = Text(limits.MemoryMegabytes * 1024L * 1024L);
        switch (controller, v2)
        {
            case ("cpu", true):
                Write(path, "cpu.max", $"{quota} {Period}");
                break;
            case ("cpu", false):
                Write(path, "cpu.cfs_period_us", Text(Period));
                Write(path, "cpu.cfs_quota_us", Text(quota));
                break;
            case ("memory", true):
                Write(path, "memory.max", bytes);
                // No swap, and the whole runner (bwrap with it) ends at once when it runs out.
                WriteIfPresent(path, "memory.swap.max", "0");
                WriteIfPresent(path, "memory.oom.group", "1");
                break;
            case ("memory", false):
                Write(path, "memory.limit_in_bytes", bytes);
                // Memory plus swap, where swap is accounted: the same figure, so no swap.
                WriteIfPresent(path, "memory.memsw.limit_in_bytes", bytes);
                break;
            case ("pids", _):
                Write(path, "pids.max", Text(limits.Pids));
                break;
        }
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Write(string path, string file, string value)
        => File.WriteAllText(Path.Combine(path, file), value);

    private static void WriteIfPresent(string path, string file, string value)
    {
        if (File.Exists(Path.Combine(path, file))) Write(path, file, value);
    }

    /// <summary>
    /// Removes the cgroups of ended runners that have emptied since (the runner pool's sweep calls it).
    /// </summary>
    public void RemoveEnded()
    {
        for (var count = ended.Count; count > 0 && ended.TryDequeue(out var path); count--)
            if (!TryDelete(path)) ended.Enqueue(path);
    }

    internal void Ended(string path)
    {
        if (!TryDelete(path)) ended.Enqueue(path);
    }

    public void Dispose()
    {
        RemoveEnded();
        foreach (var hierarchy in hierarchies) TryDelete(hierarchy.Path);
    }

    /// <summary>
    /// False while the cgroup still holds a process (or is not ours to remove): the next worker instance to start
    /// removes it.
    /// </summary>
    internal static bool TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private sealed record Hierarchy(string Path, bool V2, IReadOnlyList<string> Controllers);
}
