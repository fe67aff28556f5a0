using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// The body of a deploy (PUT), as the OpenAPI document describes it; <see cref="WorkerRequests"/> reads it.
/// </summary>
public sealed record WorkerDeployBody(string Code, int? Concurrency, RetryPolicy? Retry, RateLimit? RateLimit);
