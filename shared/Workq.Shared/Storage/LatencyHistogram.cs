namespace Workq.Shared.Storage;

/// <summary>
/// A fixed log-scale histogram of milliseconds: eight buckets a decade from 0.1 ms to 10 min (each bucket's
/// upper bound is 1.33 times its lower one), plus one below and one above. Histograms of the same
/// layout add bucket by bucket, so minutes, flushes and worker instances merge exactly; a percentile is
/// then known to within its bucket (±15 %).
/// </summary>
public static class LatencyHistogram
{
    private const double SmallestMs = 0.1;
    private const int PerDecade = 8;
    /// <summary>
    /// Bucket 0 is below 0.1 ms; bucket k (1..55) is [0.1·10^((k-1)/8), 0.1·10^(k/8)) ms; the last is from 750 s up.
    /// </summary>
    public const int Buckets = 57;

    public static int Bucket(double milliseconds)
    {
        if (!(milliseconds >= SmallestMs)) return 0;
        var k = (int)Math.Floor(Math.Log10(milliseconds / SmallestMs) * PerDecade) + 1;
        return Math.Min(k, Buckets - 1);
    }

    private static double LowerBound(int bucket)
        => bucket == 0 ? 0 : SmallestMs * Math.Pow(10, (bucket - 1) / (double)PerDecade);

    /// <summary>
    /// The value a bucket stands for: the geometric middle of its bounds (half of 0.1 ms for the first, the lower bound
    /// for the last).
    /// </summary>
    public static double Representative(int bucket) => bucket switch
    {
        0 => SmallestMs / 2,
        Buckets - 1 => LowerBound(bucket),
        _ => Math.Sqrt(LowerBound(bucket) * LowerBound(bucket + 1)),
    };

    /// <summary>
    /// The p-quantile (0 &lt; p ≤ 1) of merged buckets, rounded to 0.001 ms; null when they hold nothing.
    /// </summary>
    public static double? Percentile(IReadOnlyList<long> buckets, double p)
    {
        long total = 0;
        foreach (var count in buckets) total += count;
        if (total == 0) return null;
        var rank = (long)Math.Ceiling(p * total);
        long seen = 0;
        for (var i = 0; i < buckets.Count; i++)
        {
            seen += buckets[i];
            if (seen >= rank) return Math.Round(Representative(Math.Min(i, Buckets - 1)), 3);
        }
        return Math.Round(Representative(Buckets - 1), 3);
    }
}
