namespace Workq.Tests.Models;

/// <summary>
/// The worker object's parts Workq.Client's <c>Worker</c> leaves out (API.md "Worker object"): the scheduled count,
/// the limits and the canvas's runner. Tests that read only what the client has use <c>Worker</c>.
/// </summary>
public sealed record WorkerDetail(
    string Canvas,
    string Name,
    WorkerDetail.Counts Stats,
    WorkerDetail.Quotas Limits,
    WorkerDetail.RunnerState? Runner)
{
    /// <summary><c>Scheduled</c>: delayed emits waiting for their time, not yet in <c>Queued</c>.</summary>
    public sealed record Counts(
        long Queued,
        long InFlight,
        long Processed,
        long Failed,
        long DeadLettered,
        long Consumers,
        long Scheduled);

    public sealed record Quotas(int MaxQueued, int MaxEmitsPerEvent, string? CanvasEmitRate, int MaxScheduled);

    /// <summary>The canvas's runners over the live worker instances; absent where code runs in process.</summary>
    public sealed record RunnerState(
        string State,
        int Restarts,
        int Crashes,
        string? LastCrash,
        DateTimeOffset? LastCrashAt,
        string? Sandbox);
}
