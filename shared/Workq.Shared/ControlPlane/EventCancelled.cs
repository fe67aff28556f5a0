namespace Workq.Shared.ControlPlane;

/// <summary>An event was un-enqueued: when it is delivered, ack it without running it.</summary>
public sealed record EventCancelled(string Canvas, string Worker, Guid EventId);

/// <summary>
/// Events of a cancelled batch were un-enqueued, many at once (each id with its worker, in the same order): as <see
/// cref="EventCancelled"/> for each.
/// </summary>
public sealed record EventsCancelled(string Canvas, IReadOnlyList<string> Workers, IReadOnlyList<Guid> EventIds);
