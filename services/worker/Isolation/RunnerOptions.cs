using Workq.Shared.Configuration;
using Workq.Shared.Handlers.Isolation;

namespace Workq.Worker.Isolation;

/// <summary>How runner processes are started and bounded (see docs/DESIGN.md, "Runner processes").</summary>
public sealed record RunnerOptions(
    string Host,
    string RunnerDll,
    string? Nice,
    int MemoryMegabytes,
    int Threads,
    TimeSpan Idle)
{
    /// <summary>WORKQ_CANCEL_GRACE_SECONDS: how long a cancelled run may take to end before its runner dies.</summary>
    public TimeSpan CancelGrace { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How long past its time-out a run may take to end by itself before its runner is killed.</summary>
    public TimeSpan TimeoutGrace { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public RunnerCgroups? Cgroups { get; init; }
    public HandlerHttpLimits Http { get; init; } = new(10 * 1024 * 1024, 8);
    /// <summary>
    /// The largest frame a runner may send: an emit, an EmitBatch, a relayed request body or a step's result, with room
    /// for their fields.
    /// </summary>
    public int MaxFrameBytes =>
        Math.Max(Math.Max(Math.Max(Http.MaxBytes, MaxEventBytes), MaxStepBytes),
            Shared.Handlers.Messaging.BatchLimits.MaxBytes) + 64 * 1024;
    public int MaxEventBytes { get; init; } = 256 * 1024;
    /// <summary>The OS sandbox every runner starts in; null with <c>WORKQ_SANDBOX=off</c>.</summary>
    public RunnerSandbox? Sandbox { get; init; }

    /// <summary>What is in force, as the instances view, the worker object and /readyz say it.</summary>
    public string SandboxName => Sandbox is null ? RunnerSandbox.Off : RunnerSandbox.InForce;
    /// <summary>WORKQ_MAX_TRACE_BYTES: a runner sends no more of a run's result or error than could be kept.</summary>
    public int MaxTraceBytes { get; init; } = 64 * 1024;
    /// <summary>WORKQ_MAX_STEP_BYTES: a step's result, as a runner sends it to be kept.</summary>
    public int MaxStepBytes { get; init; } = Shared.Handlers.Messaging.StepLimits.DefaultMaxStepBytes;

    /// <summary>
    /// The runner built next to this service (the worker references Workq.Runner, so its output is copied here).
    /// </summary>
    public static RunnerOptions From(HandlerOptions handlers, EmitLimits limits, TraceStoreOptions traces) =>
        new(SandboxEnvironment.DotnetHost,
            Path.Combine(AppContext.BaseDirectory, "Workq.Runner.dll"),
            File.Exists("/usr/bin/nice") ? "/usr/bin/nice" : null,
            handlers.RunnerMemoryMegabytes, handlers.RunnerThreads, handlers.RunnerIdle)
        {
            Http = new HandlerHttpLimits(handlers.HandlerHttpMaxBytes, handlers.HandlerHttpConcurrency),
            MaxEventBytes = limits.MaxEventBytes,
            MaxTraceBytes = traces.MaxTraceBytes,
            MaxStepBytes = limits.MaxStepBytes,
            CancelGrace = handlers.CancelGrace,
        };
}
