using Workq.Shared.Storage;

namespace Workq.Worker.Consuming;

/// <summary>
/// Where a <see cref="RateGate"/> draws its tokens: the worker's bucket shared by every instance
/// (<see cref="RateBuckets"/>), or a test's.
/// </summary>
public interface IRateBuckets
{
    /// <summary>
    /// Takes up to <paramref name="want"/> of the bucket's next slots that fall within <paramref name="horizon"/>
    /// seconds from now.
    /// </summary>
    Task<RateGrant> GrantAsync(
        string canvas,
        string worker,
        RateLimit limit,
        int want,
        double horizon,
        CancellationToken cancellationToken);
}
