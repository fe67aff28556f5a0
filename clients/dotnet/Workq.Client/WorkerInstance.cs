using System.Text.Json.Nodes;

namespace Workq.Client;

/// <summary>
/// A live worker instance: its canvas filter (WORKQ_CANVASES, empty for every canvas) and consumers; runners are null
/// until runner processes exist.
/// </summary>
public sealed record WorkerInstance(
    Guid Id,
    string Host,
    int Pid,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    IReadOnlyList<string> Canvases,
    IReadOnlyList<InstanceConsumer> Consumers,
    JsonNode? Runners);
