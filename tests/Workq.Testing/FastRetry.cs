using Workq.Client;

namespace Workq.Testing;

/// <summary>Retries fast in tests: the delays under test are the server's Retry-After, not the backoff.</summary>
public static class FastRetry
{
    public static WorkqRetryOptions Options => new()
    {
        MaxRetryAttempts = 3,
        BaseDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(50)
    };
}
