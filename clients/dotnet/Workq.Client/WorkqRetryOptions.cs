namespace Workq.Client;

/// <summary>
/// Retries of transient failures (503 honoring Retry-After, 502, 504, connection errors, time-outs):
/// exponential backoff with jitter. Emits are retried with the same idempotency key, so they are never
/// enqueued twice; on the control API only reads are retried.
/// </summary>
public sealed class WorkqRetryOptions
{
    /// <summary>Retries after the first attempt; 0 turns retrying off.</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one attempt may take before it is abandoned and retried.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A longer Retry-After than this is cut to it, so a caller is never parked for minutes.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);
}
