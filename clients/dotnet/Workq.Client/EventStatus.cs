using System.Text.Json.Nodes;

namespace Workq.Client;

/// <summary>
/// An event's status (<see cref="WorkqControlClient.GetEventAsync"/>): <c>Status</c> is scheduled, queued, running,
/// completed, failed, timedOut, cancelled or deadLettered; the last five are null until known.
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
    string? Error)
{
    /// <summary>
    /// Completed, failed, timed out, cancelled or dead-lettered: it will not change again (unless redriven).
    /// </summary>
    public bool IsFinished => Status is not ("scheduled" or "queued" or "running");
}
