namespace Workq.Shared.Storage;

/// <summary>The event status of API.md, as stored.</summary>
public sealed record EventStatusRow(
    Guid Id,
    string Worker,
    string Status,
    int Attempts,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? RunAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Result,
    string? Error);
