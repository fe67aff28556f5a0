namespace Workq.Shared.ControlPlane;

/// <summary>
/// What one worker instance is running, sent every half second while it runs anything (and every second while idle):
/// control sums the last report of every live instance into each worker's <c>inFlight</c>. A report replaces the
/// instance's previous one, so a worker missing from it has nothing in flight there. <c>Description</c> feeds the
/// instances view (null from instances older than it).
/// </summary>
public sealed record WorkerInstanceLoad(
    Guid Instance,
    IReadOnlyList<WorkerLoad> Workers,
    InstanceDescription? Description = null);
