using System.Text.Json.Nodes;

namespace Workq.Emitter.Apis;

/// <summary>A batch's callback: the worker it is emitted to and its event.</summary>
public sealed record BatchCallbackBody(string Worker, JsonNode? Event);
