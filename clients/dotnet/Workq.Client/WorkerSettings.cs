namespace Workq.Client;

/// <summary>
/// A worker's settings, for a PATCH or with a deploy: only what is set changes. <c>ClearRetry</c> removes the retry
/// policy (sends <c>"retry": null</c>), which a null <c>Retry</c> alone cannot say; <c>ClearRateLimit</c> likewise
/// removes the rate limit.
/// </summary>
public sealed record WorkerSettings(int? Concurrency = null, RetryPolicy? Retry = null, bool ClearRetry = false,
    RateLimit? RateLimit = null, bool ClearRateLimit = false);
