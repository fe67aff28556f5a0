using System.Collections.Concurrent;
using System.Diagnostics;
using Workq.Shared.Handlers.Isolation;

namespace Workq.Worker.Isolation;

/// <summary>
/// How a runner process starts. <c>/bin/sh</c> runs a fixed script (its arguments only ever reach it as <c>"$@"</c>)
/// that writes its own pid into the runner's cgroups, so that bwrap and the runner start inside them with nothing to
/// move later; gives itself the highest OOM score, so that where memory runs out the kernel ends a runner before the
/// worker service; opens the sandbox's seccomp BPF on fd 3; and execs the command: setpriv, bwrap and the runner, or
/// with <c>WORKQ_SANDBOX=off</c> the runner alone. Processes start on one thread that lives as long as the service:
/// bwrap's <c>--die-with-parent</c> (<c>PR_SET_PDEATHSIG</c>) fires when the thread that forked it ends, and a
/// thread-pool thread ends when the pool shrinks.
/// </summary>
internal static class RunnerLaunch
{
    private const string Script = """
        set -e
        seccomp=$1; shift
        while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift
        { echo 1000 > /proc/self/oom_score_adj; } 2>/dev/null || :
        if [ -n "$seccomp" ]; then exec "$@" 3< "$seccomp"; fi
        exec "$@"
        """;

    private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> Pending
        = StartLauncher();

    private static BlockingCollection<(Process, TaskCompletionSource)> StartLauncher()
    {
        var pending = new BlockingCollection<(Process, TaskCompletionSource)>();
        new Thread(() =>
        {
            foreach (var (process, started) in pending.GetConsumingEnumerable())
            {
                try
                {
                    process.Start();
                    started.SetResult();
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
            }
        })
        { IsBackground = true, Name = "Runner launcher" }.Start();
        return pending;
    }

    /// <summary>Starts the process on the launcher thread.</summary>
    public static Task StartAsync(Process process)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Pending.Add((process, started));
        return started.Task;
    }

    /// <summary>
    /// The runner's start: its pipes, the launch script's arguments and an environment of <see
    /// cref="SandboxEnvironment"/>'s only.
    /// </summary>
    public static ProcessStartInfo StartInfo(
        RunnerOptions options,
        RunnerCgroup? cgroup,
        params string[] runnerArguments)
    {
        var start = new ProcessStartInfo
        {
            FileName = "/bin/sh",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = options.Sandbox is null ? Path.GetDirectoryName(options.RunnerDll)! : "/",
        };
        foreach (var arg in new[] {
            "-c",
            Script,
            "sh",
            options.Sandbox?.SeccompFile ?? "" }) start.ArgumentList.Add(arg);
        foreach (var procs in cgroup?.ProcsFiles ?? []) start.ArgumentList.Add(procs);
        start.ArgumentList.Add("--");
        // Below the supervisor's priority where no cgroup holds the runner's CPU; inherited by every thread it starts.
        if (options.Nice is { } nice && cgroup?.LimitsCpu != true)
            foreach (var arg in new[] { nice, "-n", "10" }) start.ArgumentList.Add(arg);
        foreach (var arg in options.Sandbox?.Command ?? [options.Host, options.RunnerDll]) start.ArgumentList.Add(arg);
        foreach (var arg in runnerArguments) start.ArgumentList.Add(arg);
        // Handler code is hostile: the runner sees none of the worker service's environment (its WORKQ_* secrets). With
        // a memory cgroup the GC heap gets three quarters of it (.NET's own share under a cgroup), so a big allocation
        // still throws in the handler while the cgroup caps the rest of the process.
        start.Environment.Clear();
        var heap = cgroup?.LimitsMemory == true ? options.MemoryMegabytes * 3 / 4 : options.MemoryMegabytes;
        foreach (var (key, value) in SandboxEnvironment.For(heap)) start.Environment[key] = value;
        return start;
    }

    /// <summary>
    /// The start-up check: a runner started exactly as the canvases' will be, which reports what it sees of its sandbox
    /// and exits. Its report, or <see cref="SandboxUnavailableException"/> with why it failed, in one line.
    /// </summary>
    public static async Task<string> ProbeAsync(
        RunnerOptions options,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        using var cgroup = options.Cgroups?.Create("probe", logger);
        using var process = new Process { StartInfo = StartInfo(options, cgroup, SandboxEnvironment.ProbeArgument) };
        await StartAsync(process);
        process.StandardInput.Close();
        var report = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.StartupTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new SandboxUnavailableException(
                $"a sandboxed runner did not start within {options.StartupTimeout.TotalSeconds:0} s");
        }
        var (output, error) = ((await report).Trim(), (await errors).Trim());
        if (process.ExitCode == 0) return output;
        var why = new[] { error, output }.FirstOrDefault(t => t.Length > 0)?.Split('\n')[0]
            ?? $"it exited with code {process.ExitCode}";
        throw new SandboxUnavailableException(why);
    }
}
