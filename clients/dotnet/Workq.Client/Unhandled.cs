using System.Text.Json.Nodes;

namespace Workq.Client;

/// <summary>Events emitted to a worker name that does not exist (yet), parked until it is created.</summary>
public sealed record Unhandled(
    string Worker,
    long Count,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    JsonNode? Sample,
    long Dropped = 0);
