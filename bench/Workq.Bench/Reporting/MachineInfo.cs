using System.Runtime.InteropServices;

namespace Workq.Bench.Reporting;

public static class MachineInfo
{
    /// <summary>
    /// What the figures were measured on; the load average is read before anything starts, to show a shared machine.
    /// </summary>
    public static Machine Read()
    {
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ').Take(3).ToArray() : [];
        // The one-minute load includes the build ./bench.sh just ran; the five-minute one says whether others were
        // busy.
        var shared = load.Length == 3
            && double.Parse(load[1], CultureInfo.InvariantCulture) > Environment.ProcessorCount * 1.5;
        return new(
            Environment.ProcessorCount,
            MemoryMb(),
            OsName(),
            File.Exists("/proc/sys/kernel/osrelease")
                ? "Linux " + File.ReadAllText("/proc/sys/kernel/osrelease").Trim()
                : RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            load.Length == 3 ? string.Join(' ', load) : "n/a",
            shared
                ? "the machine was busy with other work when the run started (five-minute load above 1.5 per core): " +
                    "rerun ./bench.sh on a quiet machine for clean figures"
                : "the machine was otherwise quiet; the broker, the database, the four services and the bench all " +
                    "share its cores");
    }

    private static long MemoryMb() =>
        File.Exists("/proc/meminfo")
            ? File.ReadLines("/proc/meminfo").Where(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
                .Select(l => long.Parse(
                    l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
                    CultureInfo.InvariantCulture) / 1024).FirstOrDefault()
            : 0;

    private static string OsName() =>
        File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").Where(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                .Select(l => l["PRETTY_NAME=".Length..].Trim('"')).FirstOrDefault() ?? "Linux"
            : RuntimeInformation.OSDescription;
}
