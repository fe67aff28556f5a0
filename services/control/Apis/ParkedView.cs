using System.Text.Json.Nodes;

namespace Workq.Control.Apis;

/// <summary>A parked copy of the event in the unhandled list.</summary>
public sealed record ParkedView(JsonNode? Event, DateTimeOffset EnqueuedAt, DateTimeOffset ReceivedAt);
