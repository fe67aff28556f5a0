using System.Threading.RateLimiting;
using Workq.Shared.Configuration;

namespace Workq.Emitter.Emitting;

/// <summary>
/// <c>WORKQ_CANVAS_EMIT_RATE</c>: a token bucket per canvas, one token per event. Off (the default), it is one null
/// check; on, one dictionary lookup and a lock per request. The buckets refill continuously (no timer per canvas:
/// the partitioned limiter's one timer tops them all up) and an idle canvas's bucket is let go.
/// </summary>
public sealed class CanvasEmitRate(EmitLimits options) : IDisposable
{
    private readonly EmitRate? rate = options.CanvasEmitRate;
    private readonly PartitionedRateLimiter<string>? buckets = options.CanvasEmitRate is { } configured
        ? Create(configured)
        : null;

    public EmitRateDecision TryTake(string canvas, int events)
    {
        if (buckets is null) return default;
        // A bucket never holds more than the burst: such a batch could never pass, so waiting would not help.
        if (events > rate!.Burst) return new EmitRateDecision(EmitRateDecision.Refusal.LargerThanBurst);
        using var lease = buckets.AttemptAcquire(canvas, events);
        if (lease.IsAcquired) return default;
        return new EmitRateDecision(
            EmitRateDecision.Refusal.OverRate,
            lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : rate.Period);
    }

    private static PartitionedRateLimiter<string> Create(EmitRate rate) =>
        PartitionedRateLimiter.Create<string, string>(canvas => RateLimitPartition
            .GetTokenBucketLimiter(canvas, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = rate.Burst,
                TokensPerPeriod = rate.Events,
                ReplenishmentPeriod = rate.Period,
                AutoReplenishment = false,
                QueueLimit = 0,
            }), StringComparer.Ordinal);

    public void Dispose() => buckets?.Dispose();
}
