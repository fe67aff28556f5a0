namespace Workq.Control.Apis;

/// <summary>
/// <c>queued</c> by the queue each event waits in (API.md "Priorities"): <c>high</c> and <c>low</c> in the worker's
/// own queues for them, <c>normal</c> in its queue and its ordering lanes.
/// </summary>
public sealed record QueuedByPriority(long High, long Normal, long Low);
