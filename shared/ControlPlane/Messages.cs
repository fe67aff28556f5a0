namespace Workq.Shared.ControlPlane;

/// <summary>A worker was deployed, changed, paused, resumed, blocked, unblocked or deleted: read it again from the registry.</summary>
public sealed record WorkerChanged(string Canvas, string Worker);

/// <summary>A canvas was created or deleted.</summary>
public sealed record CanvasChanged(string Canvas, bool Deleted);

/// <summary>An event was un-enqueued: when it is delivered, ack it without running it.</summary>
public sealed record EventCancelled(string Canvas, string Worker, Guid EventId);
