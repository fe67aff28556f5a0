namespace Workq.Shared.Storage;

/// <summary>One parked event of the unhandled list, as the event lookup shows it.</summary>
public sealed record UnhandledEvent(
    string Worker,
    System.Text.Json.Nodes.JsonNode? Event,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset ReceivedAt);
