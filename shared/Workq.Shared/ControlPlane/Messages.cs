namespace Workq.Shared.ControlPlane;

/// <summary>
/// A worker was deployed, changed, paused, resumed, blocked, unblocked or deleted: read it again from the registry.
/// </summary>
public sealed record WorkerChanged(string Canvas, string Worker);

/// <summary>A canvas was created or deleted.</summary>
public sealed record CanvasChanged(string Canvas, bool Deleted);

/// <summary>An event was un-enqueued: when it is delivered, ack it without running it.</summary>
public sealed record EventCancelled(string Canvas, string Worker, Guid EventId);

/// <summary>
/// What one worker instance is running, sent every half second while it runs anything (and every second while idle):
/// control sums the last report of every live instance into each worker's <c>inFlight</c>. A report replaces the
/// instance's previous one, so a worker missing from it has nothing in flight there. <c>Description</c> feeds the
/// instances view (null from instances older than it).
/// </summary>
public sealed record WorkerInstanceLoad(
    Guid Instance,
    IReadOnlyList<WorkerLoad> Workers,
    InstanceDescription? Description = null);

/// <summary>
/// Who a worker instance is and what it consumes: its canvas filter (<c>WORKQ_CANVASES</c>) and its consumers; where
/// handler code runs, and the OS sandbox its runners start in (<c>namespaces+seccomp</c> or <c>off</c>; null from older
/// instances).
/// </summary>
public sealed record InstanceDescription(
    string Host,
    int Pid,
    DateTimeOffset StartedAt,
    IReadOnlyList<string> Canvases,
    IReadOnlyList<ConsumerDescription> Consumers,
    string Isolation = "none",
    IReadOnlyList<RunnerDescription>? Runners = null,
    string? Sandbox = null);

/// <summary>
/// A canvas's runner process on an instance: <c>warm</c>, <c>starting</c> or <c>stopped</c> (idle, or between a crash
/// and the next event), how often it was restarted after a crash or kill, and the last crash's cause. A quarantine
/// runner runs the events a crash left suspect, one at a time.
/// </summary>
public sealed record RunnerDescription(
    string Canvas,
    string State,
    int? Pid,
    int Running,
    int Restarts,
    int Crashes,
    string? LastCrash,
    DateTimeOffset? LastCrashAt,
    double? ColdStartMs,
    bool Quarantine = false);

/// <summary>
/// One consumer of an instance: prefetch is the worker's concurrency; a draining one is cancelled and finishing its
/// events.
/// </summary>
public sealed record ConsumerDescription(string Canvas, string Worker, int Prefetch, int InFlight, bool Draining);

/// <summary>
/// Events of one worker in flight on the reporting instance, and how many of its consumers there are cancelled (paused,
/// say) but still finishing them: the broker counts such a consumer until its deliveries are settled.
/// </summary>
public sealed record WorkerLoad(string Canvas, string Worker, long InFlight, int Draining);
