using System.Text.Json.Nodes;
using Workq.Shared.Handlers;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Events;

/// <summary>
/// An event's status (API.md, "Event status"); the last five are null until known, <c>WaitingFor</c> is the signal
/// a waiting event waits for, <c>Debounce</c> a debounced run's key, mode and absorbed emits, and <c>Priority</c> its
/// priority (API.md "Priorities").
/// </summary>
public sealed record EventStatusView(
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
    string? WaitingFor,
    EventDebounce? Debounce,
    string Priority = Priorities.Normal)
{
    public static EventStatusView From(
        EventStatusRow row) => new(row.Id, row.Worker, row.Status, row.Attempts, row.EnqueuedAt, row.RunAt,
        row.StartedAt, row.FinishedAt, row.Result is null ? null : JsonText.ParseOrString(row.Result), row.Error,
        row.WaitingFor, row.Debounce, Priorities.Name(row.Priority));
}
