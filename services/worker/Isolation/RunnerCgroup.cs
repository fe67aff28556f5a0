using System.Globalization;

namespace Workq.Worker.Isolation;

/// <summary>
/// One runner's cgroups (one per v1 hierarchy, or one v2 cgroup), removed once the runner has exited.
/// </summary>
public sealed class RunnerCgroup(
    RunnerCgroups parent,
    IReadOnlyList<string> paths,
    string? memory,
    bool cpu,
    bool v2) : IDisposable
{
    /// <summary>The files the runner's launch writes its own pid to, before it starts bwrap.</summary>
    public IEnumerable<string> ProcsFiles => paths.Select(p => Path.Combine(p, "cgroup.procs"));

    public bool LimitsMemory => memory is not null;

    public bool LimitsCpu => cpu;

    /// <summary>
    /// Whether the cgroup's OOM killer ended a process of the runner (read when the cgroup is removed).
    /// </summary>
    public bool OutOfMemoryKilled { get; private set; }

    public void Dispose()
    {
        OutOfMemoryKilled = memory is not null && OomKills(memory, v2) > 0;
        foreach (var path in paths) parent.Ended(path);
    }

    // v1's memory.oom_control and v2's memory.events both count kills on a line "oom_kill N".
    private static long OomKills(string path, bool v2)
    {
        try
        {
            var line = File.ReadLines(Path.Combine(path, v2 ? "memory.events" : "memory.oom_control"))
                .FirstOrDefault(l => l.StartsWith("oom_kill ", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line["oom_kill ".Length..], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Ends whatever still runs in a leftover runner cgroup, then removes it.</summary>
    internal static void End(string path)
    {
        try
        {
            if (File.Exists(Path.Combine(path, "cgroup.kill"))) File.WriteAllText(
                Path.Combine(path, "cgroup.kill"),
                "1");
            else
            {
                foreach (var line in File.ReadLines(Path.Combine(path, "cgroup.procs")))
                {
                    if (!int.TryParse(line, out var pid)) continue;
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException
            or InvalidOperationException)
        {
            // Gone already, or not ours.
        }
        RunnerCgroups.TryDelete(path);
    }
}
