using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;
using Workq.Shared.Handlers.Isolation;

namespace Workq.Worker.Isolation;

/// <summary>
/// The OS wall around every runner process (<c>WORKQ_SANDBOX=namespaces</c>, the default; docs/security.md, "The OS
/// wall"). bubblewrap starts the runner as an unprivileged user (<c>workq-runner</c> where it exists, else
/// <c>nobody</c>; 65534 inside) without capabilities and with no_new_privs, alone in user, PID, mount, IPC, UTS, cgroup
/// and network namespaces of its own, on a file system of the .NET runtime, the system's shared libraries and the
/// runner's files, all read-only, plus an empty private /tmp; under a seccomp filter (<see cref="Refused"/>) and, from
/// its first line, one of its own that refuses execve. Made once per worker instance: a private directory holds a copy
/// of the runner's files (so the runner sees no path of the checkout or the image) and the filter's BPF.
/// </summary>
public sealed class RunnerSandbox : IDisposable
{
    /// <summary>What the instances view, the worker object and /readyz say is in force.</summary>
    public const string InForce = "namespaces+seccomp";
    public const string Off = "off";
    private const string Prefix = "workq-sandbox-";
    private const string RunnerUser = "workq-runner";
    private const int Nobody = 65534;
    private const string RunnerDirectory = "/runner";
    private const int TmpMegabytes = 16;
    private const int NotPermitted = 1;
    private const int NotImplemented = 38;
    private const ulong CloneThread = 0x00010000;
    private const ulong UnixSockets = 1;

    /// <summary>
    /// The system calls bwrap's filter refuses (EPERM, but clone3's ENOSYS), by why; documented in docs/security.md. A
    /// runner needs none of them: .NET, its threads and its handlers run without. Names this kernel or libseccomp does
    /// not know are skipped.
    /// </summary>
    public static readonly IReadOnlyList<(string Why, string[] Calls)> Refused =
    [
        ("other processes' memory and handles", ["ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
            "pidfd_getfd", "kcmp"]),
        ("new processes (clone is refused too unless it makes a thread)", ["fork", "vfork"]),
        ("namespaces and mounts", ["unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
            "open_tree", "fsopen",
            "fsconfig", "fsmount", "fspick", "mount_setattr"]),
        ("the kernel's keyrings", ["keyctl", "add_key", "request_key"]),
        ("kernel programs, tracing and modules", ["bpf", "perf_event_open", "init_module", "finit_module",
            "delete_module", "kexec_load",
            "kexec_file_load"]),
        ("kernel features exploits lean on", ["userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
            "personality"]),
        ("files by handle, past the mount namespace", ["open_by_handle_at", "name_to_handle_at"]),
        ("the machine's settings (capabilities the runner lacks anyway)", ["reboot", "swapon", "swapoff", "acct",
            "syslog", "settimeofday",
            "clock_settime", "clock_adjtime", "sethostname", "setdomainname", "iopl", "ioperm", "quotactl",
                "quotactl_fd", "vhangup"]),
    ];

    private readonly string directory;
    private readonly IReadOnlyList<string> command;

    private RunnerSandbox(string directory, IReadOnlyList<string> command, string user)
    {
        this.directory = directory;
        this.command = command;
        User = user;
    }

    /// <summary>
    /// Who runners run as on this machine, for the log: "uid 999" (setpriv's), or this service's own uid.
    /// </summary>
    public string User { get; }

    /// <summary>The compiled filter, opened by the runner's launch on fd 3 for bwrap's <c>--seccomp 3</c>.</summary>
    public string SeccompFile => Path.Combine(directory, "seccomp.bpf");

    /// <summary>
    /// setpriv (when this service runs as root), bwrap and its options, then the runner: the launch execs this.
    /// </summary>
    public IReadOnlyList<string> Command => command;

    /// <summary>
    /// Sets the sandbox up for this worker instance; <see cref="SandboxUnavailableException"/> says in one line why it
    /// cannot.
    /// </summary>
    public static RunnerSandbox Create(string runnerDll, string dotnetHost)
    {
        if (!OperatingSystem.IsLinux()) throw new SandboxUnavailableException("it needs Linux (namespaces, seccomp)");
        var bwrap = FindOnPath("bwrap")
            ?? throw new SandboxUnavailableException("bwrap is not installed (Debian's bubblewrap package)");
        var dotnet = DotnetExecutable(dotnetHost);
        RemoveLeftovers();
        string directory;
        try
        {
            directory = Directory.CreateTempSubdirectory(
                Prefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-").FullName;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SandboxUnavailableException(
                $"its private directory cannot be made under {Path.GetTempPath()}: {e.Message}");
        }
        try
        {
            // Others may pass through (the runner's user binds the runner's files from here), not list: the BPF stays
            // this service's.
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupExecute
                | UnixFileMode.OtherExecute);
            CopyRunner(runnerDll, Path.Combine(directory, "runner"));
            WriteFilter(Path.Combine(directory, "seccomp.bpf"));
            var command = new List<string>();
            var user = "this service's own (unprivileged) uid";
            if (Environment.IsPrivilegedProcess)
            {
                var (uid, gid) = RunnerUid();
                user = $"uid {uid}";
                command.AddRange([FindOnPath("setpriv")
                    ?? throw new SandboxUnavailableException("setpriv is not installed (util-linux)"),
                    $"--reuid={uid}", $"--regid={gid}", "--clear-groups", "--no-new-privs"]);
            }
            command.Add(bwrap);
            command.AddRange(BwrapOptions(Path.GetDirectoryName(dotnet)!, Path.Combine(directory, "runner")));
            command.AddRange(["--", dotnet, Path.Combine(
                RunnerDirectory,
                Path.GetFileName(runnerDll)), SandboxEnvironment.SandboxedArgument]);
            return new RunnerSandbox(directory, command, user);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    private static IEnumerable<string> BwrapOptions(string dotnetRoot, string runner)
    {
        // Namespaces of its own: user, PID, IPC, UTS, cgroup and network (a loopback only), and mount (always). Named
        // one by one:
        // --unshare-all only tries the user namespace, and bwrap with privileges would carry on without one.
        // --as-pid-1: the runner is alone in its PID namespace, with no bwrap process beside it whose memory it could
        // write through /proc (bwrap's own pid 1 runs outside the seccomp filter). --die-with-parent: it ends with the
        // worker service.
        string[] options
            = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup", "--unshare-net",
            "--as-pid-1", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--uid", Text(
                Nobody), "--gid", Text(Nobody), "--hostname", "runner"];
        foreach (var option in options) yield return option;
        // The runtime (its host, its resolver and Microsoft.NETCore.App) at the path it has here, and the shared
        // libraries it loads.
        foreach (var path in new[] { "dotnet", "host", "shared/Microsoft.NETCore.App" })
            foreach (var option in ReadOnly(Path.Combine(dotnetRoot, path))) yield return option;
        foreach (var path in new[] {
            "/usr/lib",
            "/usr/lib64",
            "/lib",
            "/lib64",
            "/usr/share/zoneinfo",
            "/etc/localtime" })
            foreach (var option in ReadOnly(path)) yield return option;
        string[] rest = ["--ro-bind", runner, RunnerDirectory,
            "--proc", "/proc", "--dev", "/dev",
            "--size", Text(TmpMegabytes * 1024L * 1024L), "--tmpfs", "/tmp",
            // Writable only in /tmp: bwrap's root and /dev are tmpfs mounts of their own.
            "--remount-ro", "/dev", "--remount-ro", "/",
            "--chdir", "/tmp", "--setenv", "HOME", "/tmp",
            "--seccomp", "3"];
        foreach (var option in rest) yield return option;
    }

    // A merged /usr's top-level links (Debian's /lib -> usr/lib) are links inside too; the rest is bound read-only,
    // what is missing skipped.
    private static IEnumerable<string> ReadOnly(string path)
    {
        if (Path.GetDirectoryName(path) == "/"
            && new FileInfo(path).LinkTarget is { } target) return ["--symlink", target, path];
        return File.Exists(path) || Directory.Exists(path) ? ["--ro-bind", path, path] : [];
    }

    // The runner's dll, its runtimeconfig and deps, and every assembly its deps list (Workq.Shared.Handlers): nothing
    // else of this folder.
    [SupportedOSPlatform("linux")]
    private static void CopyRunner(string runnerDll, string into)
    {
        var source = Path.GetDirectoryName(runnerDll)!;
        var name = Path.GetFileNameWithoutExtension(runnerDll);
        var deps = Path.Combine(source, name + ".deps.json");
        using var json = JsonDocument.Parse(File.ReadAllText(deps));
        var assemblies = json.RootElement.GetProperty("targets").EnumerateObject().First().Value.EnumerateObject()
            .SelectMany(library => library.Value.TryGetProperty("runtime", out var runtime)
                ? runtime.EnumerateObject().Select(a => Path.GetFileName(a.Name))
                : []);
        var readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        Directory.CreateDirectory(
            into,
            readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        foreach (var file in assemblies.Append(name + ".deps.json").Append(name + ".runtimeconfig.json")
            .Distinct(StringComparer.Ordinal))
        {
            File.Copy(Path.Combine(source, file), Path.Combine(into, file));
            File.SetUnixFileMode(Path.Combine(into, file), readable);
        }
    }

    [SupportedOSPlatform("linux")]
    private static void WriteFilter(string path)
    {
        try
        {
            using var filter = new SeccompFilter();
            foreach (var call in Refused.SelectMany(r => r.Calls)) filter.Refuse(call, NotPermitted);
            // glibc falls back to clone when clone3 is missing, and clone's flags are an argument a filter can read
            // (clone3's are not).
            filter.Refuse("clone3", NotImplemented);
            filter.Refuse("clone", NotPermitted, new SeccompFilter.ArgumentMatch(0, 0, Mask: CloneThread));
            filter.Refuse("socket", NotPermitted, new SeccompFilter.ArgumentMatch(0, UnixSockets, NotEqual: true));
            using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            filter.Export(file.SafeFileHandle);
        }
        catch (DllNotFoundException)
        {
            throw new SandboxUnavailableException("libseccomp.so.2 is missing (Debian's libseccomp2 package)");
        }
    }

    // The dedicated user scripts/servers.sh creates, else nobody: never this service's own user.
    private static (int Uid, int Gid) RunnerUid()
    {
        var entry = File.Exists("/etc/passwd")
            ? File.ReadLines("/etc/passwd").Select(l => l.Split(':'))
                .FirstOrDefault(f => f.Length > 3 && f[0] == RunnerUser)
            : null;
        return entry is not null && int.TryParse(entry[2], out var uid) && int.TryParse(entry[3], out var gid)
            && uid != 0 ? (uid, gid) : (Nobody, Nobody);
    }

    private static string DotnetExecutable(string host)
    {
        var path = Path.IsPathRooted(host) ? host
            : Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root
                && File.Exists(Path.Combine(root, "dotnet")) ? Path.Combine(root, "dotnet")
            : FindOnPath(host) ?? throw new SandboxUnavailableException($"'{host}' is not on PATH");
        return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(
            ':',
            StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/sbin").Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    // A worker instance killed with -9 leaves its directory behind: removed by the next one to start.
    private static void RemoveLeftovers()
    {
        foreach (var stale in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            var pid = Path.GetFileName(stale)[Prefix.Length..].Split('-')[0];
            if (Directory.Exists($"/proc/{pid}")) continue;
            try
            {
                Directory.Delete(stale, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's, or going: not ours to remove.
            }
        }
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed by the next instance to start.
        }
    }
}
