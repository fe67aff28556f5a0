namespace Workq.Shared.ControlPlane;

/// <summary>
/// A worker was deployed, changed, paused, resumed, blocked, unblocked or deleted: read it again from the registry.
/// </summary>
public sealed record WorkerChanged(string Canvas, string Worker);
