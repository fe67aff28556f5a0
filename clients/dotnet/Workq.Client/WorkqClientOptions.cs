namespace Workq.Client;

/// <summary>What <c>AddWorkqClient</c> configures: where the services are, the token, and the retry policy.</summary>
public sealed class WorkqClientOptions
{
    /// <summary>The emitter, e.g. http://127.0.0.1:8081.</summary>
    public Uri? EmitterUrl { get; set; }

    /// <summary>
    /// The control API, e.g. http://127.0.0.1:8080; needed only for <see cref="WorkqControlClient"/>.
    /// </summary>
    public Uri? ControlUrl { get; set; }

    /// <summary>A canvas token, or the admin token.</summary>
    public string? Token { get; set; }

    public WorkqRetryOptions Retry { get; set; } = new();
}

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
