namespace Workq.Control.Apis;

/// <summary>
/// The worker's canvas's runner processes over the live worker instances (API.md "Runner processes"): <c>warm</c> when
/// one takes runs, crashes and restarts summed, the latest crash's cause, and the OS sandbox they start in
/// (<c>namespaces+seccomp</c> or <c>off</c>; null while only older instances report). Absent where handler code runs in
/// process.
/// </summary>
public sealed record RunnerView(
    string State,
    int Restarts,
    int Crashes,
    string? LastCrash,
    DateTimeOffset? LastCrashAt,
    string? Sandbox = null);
