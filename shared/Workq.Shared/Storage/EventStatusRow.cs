namespace Workq.Shared.Storage;

/// <summary>
/// The event status of API.md, as stored; <c>WaitingFor</c>, the signal a waiting event waits for; <c>Debounce</c>, a
/// debounced run's key, mode and absorbed emits; <c>Priority</c>, its priority (API.md "Priorities").
/// </summary>
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
    string? Error,
    string? WaitingFor = null,
    EventDebounce? Debounce = null,
    Handlers.Messaging.Priority Priority = Handlers.Messaging.Priority.Normal);
