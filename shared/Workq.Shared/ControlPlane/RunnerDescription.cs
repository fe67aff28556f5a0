namespace Workq.Shared.ControlPlane;

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
