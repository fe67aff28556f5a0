using System.Text.Json.Nodes;
using Workq.Emitter.Emitting;

namespace Workq.Emitter.Apis;

/// <summary>
/// One item of a batch emit, as the OpenAPI document describes it; <see cref="EventBatch"/> reads it.
/// </summary>
public sealed record BatchItemBody(
    string Worker,
    JsonNode? Event,
    string? IdempotencyKey,
    double? DelaySeconds,
    string? RunAt,
    string? OrderingKey,
    string? DebounceKey,
    double? DebounceSeconds,
    string? DebounceMode,
    double? DebounceMaxSeconds,
    string? Priority);
