using System.Text.Json.Nodes;

namespace Workq.Client;

/// <summary>One processed event: the last runs of a worker, newest first.</summary>
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
    string? OrderingKey = null);
