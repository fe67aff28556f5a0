namespace Workq.Shared.ControlPlane;

/// <summary>An event was un-enqueued: when it is delivered, ack it without running it.</summary>
public sealed record EventCancelled(string Canvas, string Worker, Guid EventId);
