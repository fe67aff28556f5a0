namespace Workq.Shared.Handlers.Messaging;

/// <summary>A worker already has its limit of events waiting for their time; the event was not scheduled.</summary>
public sealed class ScheduledFullException(string canvas, string worker, int limit) : InvalidOperationException(
    $"Too many scheduled events: worker {canvas}/{worker} already has its limit of {limit} delayed events waiting " +
        $"(WORKQ_MAX_SCHEDULED_PER_WORKER); nothing was scheduled. Retry once some have run.")
{
    public string Canvas { get; } = canvas;
    public string Worker { get; } = worker;
}
