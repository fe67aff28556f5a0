using Npgsql;
using Polly;
using Polly.Retry;

namespace Workq.Control.Canvases;

/// <summary>
/// A store's delete that lost a deadlock (or a serialization conflict) to live traffic, a batch settler's update, say,
/// which locks the same rows in another order: run again, up to three times, rather than answer 503 for what waiting a
/// moment resolves.
/// </summary>
public static class DeletionRetry
{
    public static readonly ResiliencePipeline Conflicts = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<PostgresException>(e =>
                e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(50),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();
}
