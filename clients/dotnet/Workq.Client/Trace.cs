using System.Text.Json.Nodes;

namespace Workq.Client;

/// <summary>
/// One run of an event: the last runs of a worker, newest first. <c>Status</c> is completed, failed, cancelled,
/// timedOut, or sleeping or waiting for a durable run that ended in a <c>Sleep</c> or <c>WaitFor</c>. Each resume of a
/// sleeping or waiting event is a trace of its own: <c>Resume</c> is 0 for an event's first run, then 1, 2, ...
/// A debounced run has its <c>Debounce</c> (its key and the emits it absorbed when it was published); <c>Priority</c>
/// is high, normal or low.
/// </summary>
public sealed record Trace(
    Guid EventId,
    string Status,
    JsonNode? Event,
    JsonNode? Result,
    TraceError? Error,
    int Attempt,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    double QueueWaitMs,
    double DurationMs,
    IReadOnlyList<EmittedEvent> Emitted,
    IReadOnlyList<string> Logs,
    string? TraceId,
    string? Canvas = null,
    string? Worker = null,
    int? Version = null,
    int Depth = 0,
    string? OrderingKey = null,
    int Resume = 0,
    EventDebounce? Debounce = null,
    string Priority = "normal")
{
    /// <summary>The run's durable steps in the order they ended, replayed or run; empty when it used none.</summary>
    public IReadOnlyList<TraceStep> Steps { get; init; } = [];
}
