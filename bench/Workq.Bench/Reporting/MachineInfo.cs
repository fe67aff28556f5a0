using System.Globalization;
using System.Runtime.InteropServices;

namespace Workq.Bench.Reporting;

public static class MachineInfo
{
    /// <summary>What the figures were measured on; the load average is read before anything starts, to show a shared machine.</summary>
    public static Machine Read() => new(
        Environment.ProcessorCount,
        MemoryMb(),
        OsName(),
        File.Exists("/proc/sys/kernel/osrelease") ? "Linux " + File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a",
        "measured on a shared machine (other builds and tests were running); rerun ./bench.sh for clean figures");

    private static long MemoryMb() =>
        File.Exists("/proc/meminfo")
            ? File.ReadLines("/proc/meminfo").Where(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
                .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).FirstOrDefault()
            : 0;

    private static string OsName() =>
        File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").Where(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                .Select(l => l["PRETTY_NAME=".Length..].Trim('"')).FirstOrDefault() ?? "Linux"
            : RuntimeInformation.OSDescription;
}
