using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>The body of a settings change (PATCH), as the OpenAPI document describes it.</summary>
public sealed record WorkerSettingsBody(int? Concurrency, RetryPolicy? Retry, RateLimit? RateLimit);
