namespace Workq.Control.Apis;

/// <summary>
/// A live worker instance. <c>Canvases</c> is its WORKQ_CANVASES filter (empty: every canvas); <c>Runners</c> its
/// canvases' runner processes, null where handler code runs in the instance (<c>WORKQ_ISOLATION=none</c>);
/// <c>Sandbox</c> the OS sandbox they start in, <c>namespaces+seccomp</c> or <c>off</c> (null from an instance older
/// than it).
/// </summary>
public sealed record InstanceView(
    Guid Id,
    string Host,
    int Pid,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    IReadOnlyList<string> Canvases,
    IReadOnlyList<ConsumerView> Consumers,
    string Isolation,
    IReadOnlyList<Shared.ControlPlane.RunnerDescription>? Runners,
    string? Sandbox);
