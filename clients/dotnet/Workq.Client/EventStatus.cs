using System.Text.Json.Nodes;

namespace Workq.Client;

/// <summary>
/// An event's status (<see cref="WorkqControlClient.GetEventAsync"/>): <c>Status</c> is scheduled, queued, running,
/// sleeping, waiting, completed, failed, timedOut, cancelled, deadLettered or quarantined; the last five fields are
/// null until known. <c>RunAt</c> is when a scheduled event is due, when a sleeping one wakes, and when a waiting one
/// times out; <c>WaitingFor</c> names the signal a waiting event waits for (null in every other status); a debounced
/// run has its <c>Debounce</c>. <c>Priority</c> is high, normal or low (normal from a server older than priorities).
/// </summary>
public sealed record EventStatus(
    Guid Id,
    string Worker,
    string Status,
    int Attempts,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? RunAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    JsonNode? Result,
    string? Error,
    string? WaitingFor = null,
    EventDebounce? Debounce = null,
    string Priority = "normal")
{
    /// <summary>
    /// Completed, failed, timed out, cancelled, dead-lettered or quarantined: it will not change again (unless
    /// redriven). Scheduled, queued, running, sleeping and waiting events are not finished.
    /// </summary>
    public bool IsFinished => Status is not ("scheduled" or "queued" or "running" or "sleeping" or "waiting");
}
