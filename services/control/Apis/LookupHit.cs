using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// One place an event was found: <c>where</c> is trace, deadLetter, unhandled or cancelled, with that place's details.
/// </summary>
public sealed record LookupHit(
    string Where,
    string Worker,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonNode? Trace = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DeadLetter? DeadLetter = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ParkedView? Unhandled = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? CancelledAt = null);
