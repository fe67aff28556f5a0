namespace Workq.Shared.ControlPlane;

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
