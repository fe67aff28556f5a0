using Workq.Shared.Configuration;
using Workq.Shared.Isolation;

namespace Workq.Worker.Isolation;

/// <summary>How runner processes are started and bounded (see docs/DESIGN.md, "Runner processes").</summary>
public sealed record RunnerOptions(string Host, string RunnerDll, string? Nice, int MemoryMegabytes, int Threads, TimeSpan Idle, string? EgressAllow)
{
    /// <summary>How long past its time-out a run may take to end by itself before its runner is killed.</summary>
    public TimeSpan TimeoutGrace { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public RunnerCgroups? Cgroups { get; init; }
    public HandlerHttpLimits Http { get; init; } = new(10 * 1024 * 1024, 8);
    /// <summary>The largest frame a runner may send: an emit or a relayed request body, with room for their fields.</summary>
    public int MaxFrameBytes => Math.Max(Http.MaxBytes, MaxEventBytes) + 64 * 1024;
    public int MaxEventBytes { get; init; } = 256 * 1024;
    /// <summary>WORKQ_MAX_TRACE_BYTES: a runner sends no more of a run's result or error than could be kept.</summary>
    public int MaxTraceBytes { get; init; } = 64 * 1024;

    /// <summary>The runner built next to this service (the worker references Workq.Runner, so its output is copied here).</summary>
    public static RunnerOptions From(WorkqOptions options, IConfiguration config, RunnerCgroups? cgroups) =>
        new(SandboxEnvironment.DotnetHost,
            Path.Combine(AppContext.BaseDirectory, "Workq.Runner.dll"),
            cgroups is null && File.Exists("/usr/bin/nice") ? "/usr/bin/nice" : null,
            options.RunnerMemoryMegabytes, options.RunnerThreads, options.RunnerIdle, config[Shared.Scripting.EgressPolicy.AllowVariable])
        {
            Cgroups = cgroups,
            Http = new HandlerHttpLimits(options.HandlerHttpMaxBytes, options.HandlerHttpConcurrency),
            MaxEventBytes = options.MaxEventBytes,
            MaxTraceBytes = options.MaxTraceBytes,
        };
}
