namespace Workq.Shared.ControlPlane;

/// <summary>
/// Events of a cancelled batch were un-enqueued, many at once (each id with its worker, in the same order): as <see
/// cref="EventCancelled"/> for each, runs under way stopped when <c>By</c> is set.
/// </summary>
public sealed record EventsCancelled(string Canvas, IReadOnlyList<string> Workers, IReadOnlyList<Guid> EventIds,
    string? By = null);
