using System.Globalization;

namespace Workq.Bench.Infrastructure;

/// <summary>A process's resident set (VmRSS) and CPU time (user + system) at one moment, read from /proc.</summary>
public readonly record struct ProcessSample(long RssBytes, TimeSpan Cpu)
{
    // USER_HZ is 100 on every Linux the bench targets; /proc/<pid>/stat counts in those ticks.
    private const double TicksPerSecond = 100;

    public static ProcessSample Of(int pid)
    {
        try
        {
            var rss = File.ReadLines($"/proc/{pid}/status")
                .Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
                .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024)
                .FirstOrDefault();
            // Fields after the command name, which may itself hold spaces: state is field 3, utime 14, stime 15.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return new ProcessSample(rss, TimeSpan.FromSeconds(ticks / TicksPerSecond));
        }
        catch (IOException)
        {
            return default;
        }
    }

    /// <summary>The processes whose command is <paramref name="comm"/> (e.g. beam.smp, postgres), for the servers' share of the CPU.</summary>
    public static IReadOnlyList<int> FindByCommand(string comm) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(System.IO.Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ReadComm(pid) == comm)
            .ToList();

    private static string? ReadComm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
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
