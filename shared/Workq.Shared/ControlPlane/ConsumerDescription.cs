namespace Workq.Shared.ControlPlane;

/// <summary>
/// One consumer of an instance: prefetch is the worker's concurrency; a draining one is cancelled and finishing its
/// events.
/// </summary>
public sealed record ConsumerDescription(string Canvas, string Worker, int Prefetch, int InFlight, bool Draining);
