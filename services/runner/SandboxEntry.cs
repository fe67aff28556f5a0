using System.Globalization;
using Workq.Shared.Handlers.Isolation;

namespace Workq.Runner;

/// <summary>
/// What a runner started in the sandbox does first, before it reads a frame or loads handler code (docs/security.md,
/// "The OS wall"). bwrap's seccomp filter cannot refuse <c>execve</c>, since bwrap execs dotnet after installing it, so
/// the runner installs a second filter that does, on every thread. With <c>--probe</c> (the worker service's start-up
/// check) it then reports what it sees of its sandbox and exits.
/// </summary>
internal static class SandboxEntry
{
    private const int NotPermitted = 1;

    /// <summary>
    /// Null when the runner goes on to serve; else the process's exit code (the probe, or a filter that would not
    /// load).
    /// </summary>
    public static int? Enter(string[] args)
    {
        if (!args.Contains(SandboxEnvironment.SandboxedArgument)) return null;
        try
        {
            using var filter = new SeccompFilter();
            filter.Refuse("execve", NotPermitted);
            filter.Refuse("execveat", NotPermitted);
            filter.Load();
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
        {
            Console.Error.WriteLine($"runner: its seccomp filter did not load: {e.Message}");
            return 3;
        }
        if (!args.Contains(SandboxEnvironment.ProbeArgument)) return null;
        var (problem, report) = Probe();
        Console.Out.WriteLine(problem ?? report);
        return problem is null ? 0 : 1;
    }

    /// <summary>
    /// What the runner sees of its sandbox: the first thing that is not as the worker service asked, and a one-line
    /// report.
    /// </summary>
    private static (string? Problem, string Report) Probe()
    {
        var status = File.ReadLines("/proc/self/status").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.Ordinal);
        var uid = status["Uid"].Split('\t')[0];
        var processes = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName)
            .Count(n => int.TryParse(n, out _));
        var interfaces = File.ReadLines("/proc/net/dev").Skip(2).Select(l => l.Split(':')[0].Trim()).ToList();
        var filters = status.GetValueOrDefault("Seccomp_filters", "?");
        var root = string.Join(' ', Directory.EnumerateFileSystemEntries("/").Order(StringComparer.Ordinal));
        string? problem =
            uid == "0" ? "it runs as root" :
            status["CapEff"].Trim('0').Length > 0 ? $"it holds capabilities {status["CapEff"]}" :
            status["NoNewPrivs"] != "1" ? "no_new_privs is not set" :
            status["Seccomp"] != "2" ? "no seccomp filter is in force" :
            Environment.ProcessId != 1 || processes != 1
                ? $"it sees {processes} processes as pid {Environment.ProcessId}"
                :
            interfaces is not ["lo"] ? $"it sees the network interfaces {string.Join(", ", interfaces)}" :
            null;
        if (problem is not null) return ($"the sandbox is not as asked: {problem}", "");
        var report = string.Create(CultureInfo.InvariantCulture,
            $"uid {uid}, pid 1 alone, no capabilities, no_new_privs, {filters} seccomp filters, network: lo only, " +
                $"root: {root}");
        return (null, report);
    }
}
