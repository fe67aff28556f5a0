using System.Text.Json.Nodes;

namespace Workq.Client;

/// <summary>An event parked in the unhandled list because its worker did not exist.</summary>
public sealed record ParkedEvent(JsonNode? Event, DateTimeOffset EnqueuedAt, DateTimeOffset ReceivedAt);
