using System.Text.Json;
using Workq.Shared.Handlers;

namespace Workq.Shared.Storage;

/// <summary>
/// The settings a deploy (PUT) or a settings change (PATCH) carries. A null setting is left as it is (on a new worker:
/// its default); <paramref name="ClearRetry"/> removes the retry policy.
/// </summary>
public sealed record WorkerSettings(
    int? Concurrency,
    RetryPolicy? Retry,
    bool ClearRetry,
    RateLimit? RateLimit = null,
    bool ClearRateLimit = false)
{
    public static readonly WorkerSettings Unchanged = new(null, null, false);

    internal string? RetryJson => Retry is null ? null : JsonSerializer.Serialize(Retry, JsonDefaults.Web);
    internal string? RateLimitJson => RateLimit is null ? null : JsonSerializer.Serialize(RateLimit, JsonDefaults.Web);
}
