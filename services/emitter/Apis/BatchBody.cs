using System.Text.Json.Nodes;

namespace Workq.Emitter.Apis;

/// <summary>A batch's creation, as the OpenAPI document describes it; <c>BatchRequest</c> reads it.</summary>
public sealed record BatchBody(
    BatchItemBody[] Events,
    BatchCallbackBody? OnComplete,
    BatchCallbackBody? OnSuccess,
    bool? Open,
    string? IdempotencyKey);
