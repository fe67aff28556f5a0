namespace Workq.Shared.ControlPlane;

/// <summary>
/// An event was un-enqueued: when it is delivered, ack it without running it. <c>By</c> (who asked, API.md "Cancel"):
/// set when a run of it under way stops too; null for an un-enqueue, which lets it finish.
/// </summary>
public sealed record EventCancelled(string Canvas, string Worker, Guid EventId, string? By = null);
