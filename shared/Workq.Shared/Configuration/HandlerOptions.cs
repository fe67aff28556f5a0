using Microsoft.Extensions.Configuration;
using Workq.Shared.Handlers.Scripting;

namespace Workq.Shared.Configuration;

/// <summary>
/// Worker only: where handler code runs (a runner process per canvas, in its sandbox) and what bounds it: its time-out,
/// its runner's memory, threads, CPU and tasks, and its <c>Http</c>.
/// </summary>
public sealed class HandlerOptions
{
    /// <summary>
    /// <c>canvas</c> runs each canvas's handlers in a runner process of its own; <c>none</c> runs them in the worker
    /// service.
    /// </summary>
    public HandlerIsolation Isolation { get; init; } = HandlerIsolation.Canvas;
    /// <summary>The OS sandbox around every runner process (<c>WORKQ_SANDBOX</c>).</summary>
    public RunnerSandboxMode Sandbox { get; init; } = RunnerSandboxMode.Namespaces;
    public TimeSpan HandlerTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>A runner with no runs for this long is stopped.</summary>
    public TimeSpan RunnerIdle { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// WORKQ_CANCEL_GRACE_SECONDS: how long a cancelled run may take to end by itself before its runner is killed.
    /// </summary>
    public TimeSpan CancelGrace { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Each runner's GC heap limit.</summary>
    public int RunnerMemoryMegabytes { get; init; } = 256;
    /// <summary>Each runner's thread-pool cap.</summary>
    public int RunnerThreads { get; init; } = 64;
    /// <summary>Each runner's CPU quota in cores, where a cgroup is writable.</summary>
    public double RunnerCpus { get; init; } = 1;
    /// <summary>
    /// Each runner's tasks (threads and processes) at once, where a cgroup is writable: the thread pool's
    /// <see cref="RunnerThreads"/> and the runtime's own threads fit with room to spare, a thread bomb does not.
    /// </summary>
    public int RunnerPids { get; init; } = 256;
    /// <summary>The largest request or response body of a handler's <c>Http</c>.</summary>
    public int HandlerHttpMaxBytes { get; init; } = 10 * 1024 * 1024;
    /// <summary>
    /// How many <c>Http</c> requests one runner (a canvas) may have in flight; more wait in the runner.
    /// </summary>
    public int HandlerHttpConcurrency { get; init; } = 8;
    /// <summary>
    /// Where handler code's <c>Http</c> may connect beyond the public internet (WORKQ_HANDLER_HTTP_ALLOW).
    /// </summary>
    public EgressPolicy HandlerEgress { get; init; } = EgressPolicy.Default;

    public static HandlerOptions From(IConfiguration config)
    {
        var defaults = new HandlerOptions();
        return new HandlerOptions
        {
            Isolation = config["WORKQ_ISOLATION"] switch
            {
                null or "" or "canvas" => HandlerIsolation.Canvas,
                "none" => HandlerIsolation.None,
                var other => throw new InvalidOperationException("WORKQ_ISOLATION must be 'canvas' "
                    + $"(a runner process per canvas) or 'none' (in the worker service), not '{other}'."),
            },
            Sandbox = config["WORKQ_SANDBOX"] switch
            {
                null or "" or "namespaces" or "on" => RunnerSandboxMode.Namespaces,
                "off" => RunnerSandboxMode.Off,
                var other => throw new InvalidOperationException("WORKQ_SANDBOX must be 'namespaces' "
                    + $"(bubblewrap and seccomp around every runner process; 'on' too) or 'off', not '{other}'."),
            },
            HandlerTimeout = Setting.Seconds(config, "WORKQ_HANDLER_TIMEOUT_SECONDS", defaults.HandlerTimeout),
            RunnerIdle = Setting.Seconds(config, "WORKQ_RUNNER_IDLE_SECONDS", defaults.RunnerIdle),
            CancelGrace = Setting.Seconds(config, "WORKQ_CANCEL_GRACE_SECONDS", defaults.CancelGrace),
            RunnerMemoryMegabytes = Setting.Int(config, "WORKQ_RUNNER_MEMORY_MB", defaults.RunnerMemoryMegabytes),
            RunnerThreads = Setting.Int(config, "WORKQ_RUNNER_THREADS", defaults.RunnerThreads),
            RunnerCpus = Setting.Double(config, "WORKQ_RUNNER_CPUS", defaults.RunnerCpus, "cores"),
            RunnerPids = Setting.Int(config, "WORKQ_RUNNER_PIDS", defaults.RunnerPids),
            HandlerHttpMaxBytes = Setting.Int(config, "WORKQ_HANDLER_HTTP_MAX_BYTES", defaults.HandlerHttpMaxBytes),
            HandlerHttpConcurrency = Setting.Int(
                config,
                "WORKQ_HANDLER_HTTP_CONCURRENCY",
                defaults.HandlerHttpConcurrency),
            HandlerEgress = EgressPolicy.Parse(config[EgressPolicy.AllowVariable]),
        };
    }
}
