using System.Globalization;

namespace Workq.Testing;

/// <summary>A process's resident set (VmRSS) and CPU time (user + system) at one moment, read from /proc.</summary>
public readonly record struct ProcessSample(long RssBytes, TimeSpan Cpu)
{
    // USER_HZ is 100 on every Linux Workq targets; /proc/<pid>/stat counts in those ticks.
    private const double TicksPerSecond = 100;

    public static ProcessSample Of(int pid)
    {
        try
        {
            var rss = File.ReadLines($"/proc/{pid}/status")
                .Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
                .Select(l => long.Parse(
                    l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
                    CultureInfo.InvariantCulture) * 1024)
                .FirstOrDefault();
            return new ProcessSample(rss, ReadStat(pid) is { } stat ? Time(stat.Ticks) : TimeSpan.Zero);
        }
        catch (IOException)
        {
            return default;
        }
    }

    /// <summary>
    /// CPU time of <paramref name="pid"/>'s descendants (a worker's runners, control's compilers): the live ones as
    /// they stand, plus every one that exited and was waited for (their parents' cutime + cstime), so a runner stopped
    /// mid-scenario still counts. A process's time moves from the first part to the second when it is reaped, so the
    /// sum only grows. Descendants, not children: a sandboxed runner is bubblewrap's child, not the worker's.
    /// </summary>
    public static TimeSpan ChildrenCpu(int pid)
    {
        var reaped = ReadStat(pid)?.ChildTicks ?? 0;
        var live = Descendants(pid).Select(ReadStat).Sum(s => s is { } stat ? stat.Ticks + stat.ChildTicks : 0);
        return Time(reaped + live);
    }

    /// <summary>
    /// The live children of <paramref name="pid"/> (a worker's runners, control's compilers); only those whose command
    /// line contains <paramref name="commandLine"/> (e.g. Workq.Runner.dll) when it is given.
    /// </summary>
    public static IReadOnlyList<int> Children(int pid, string? commandLine = null) =>
        AllPids().Where(p => ReadStat(p)?.ParentId == pid
            && (commandLine is null || (ReadText($"/proc/{p}/cmdline")?.Contains(commandLine, StringComparison.Ordinal)
                ?? false))).ToList();

    /// <summary>
    /// The resident set of <paramref name="pid"/> and all its descendants: what one runner costs the machine, whether
    /// it is the worker's child or runs inside bubblewrap (then the child is bwrap and the runner its child).
    /// </summary>
    public static long TreeRssBytes(int pid) => Of(pid).RssBytes + Descendants(pid).Sum(p => Of(p).RssBytes);

    private static List<int> Descendants(int pid)
    {
        var parents = AllPids().Select(p => (Pid: p, Stat: ReadStat(p))).Where(p => p.Stat is not null)
            .ToLookup(p => p.Stat!.Value.ParentId, p => p.Pid);
        var found = new List<int>();
        var next = new Queue<int>([pid]);
        while (next.TryDequeue(out var parent))
            foreach (var child in parents[parent])
            {
                found.Add(child);
                next.Enqueue(child);
            }
        return found;
    }

    /// <summary>
    /// The processes whose command is <paramref name="comm"/> (e.g. beam.smp, postgres), for the servers' share of the
    /// CPU.
    /// </summary>
    public static IReadOnlyList<int> FindByCommand(string comm) =>
        AllPids().Where(pid => ReadText($"/proc/{pid}/comm")?.Trim() == comm).ToList();

    /// <summary>
    /// As <see cref="FindByCommand(string)"/>, only those in one of these containers (whose id their
    /// /proc/&lt;pid&gt;/cgroup names).
    /// </summary>
    public static IReadOnlyList<int> FindByCommand(string comm, IReadOnlyCollection<string> containerIds) =>
        FindByCommand(comm).Where(pid => ReadText($"/proc/{pid}/cgroup") is { } cgroup
            && containerIds.Any(id => cgroup.Contains(id, StringComparison.Ordinal))).ToList();

    private static IEnumerable<int> AllPids() =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(System.IO.Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0);

    private static TimeSpan Time(long ticks) => TimeSpan.FromSeconds(ticks / TicksPerSecond);

    /// <summary>
    /// Parent pid, own utime + stime, and waited-for children's cutime + cstime; null once the process is gone.
    /// </summary>
    private static (int ParentId, long Ticks, long ChildTicks)? ReadStat(int pid)
    {
        // Fields after the command name, which may itself hold spaces: state is field 3, ppid 4, utime 14, stime 15,
        // cutime 16, cstime 17.
        if (ReadText($"/proc/{pid}/stat") is not { } stat) return null;
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);
        return ((int)Field(1), Field(11) + Field(12), Field(13) + Field(14));
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
