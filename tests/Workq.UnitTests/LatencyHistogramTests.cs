using Workq.Shared.Storage;

namespace Workq.UnitTests;

public sealed class LatencyHistogramTests
{
    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.099, 0)]
    [InlineData(0.1, 1)]
    [InlineData(1.0, 9)]
    [InlineData(1000.0, 33)]
    [InlineData(600_000.0, 55)]
    [InlineData(10_000_000.0, LatencyHistogram.Buckets - 1)]
    [InlineData(double.NaN, 0)]
    public void Buckets_are_eight_a_decade_from_a_tenth_of_a_millisecond(double milliseconds, int bucket) =>
        Assert.Equal(bucket, LatencyHistogram.Bucket(milliseconds));

    [Fact]
    public void Each_bucket_stands_for_a_value_inside_it()
    {
        for (var bucket = 0; bucket < LatencyHistogram.Buckets; bucket++)
            Assert.Equal(bucket, LatencyHistogram.Bucket(LatencyHistogram.Representative(bucket)));
    }

    [Fact]
    public void Percentiles_of_merged_histograms_are_within_a_bucket_of_the_exact_ones()
    {
        var samples = Enumerable.Range(1, 1000).Select(i => i * 0.5).ToList();
        // Two halves counted apart (two instances, two flushes) and added, as the upsert adds them.
        var halves = new[] { new long[LatencyHistogram.Buckets], new long[LatencyHistogram.Buckets] };
        for (var i = 0; i < samples.Count; i++) halves[i % 2][LatencyHistogram.Bucket(samples[i])]++;
        var merged = halves[0].Zip(halves[1], (a, b) => a + b).ToArray();

        foreach (var p in new[] { 0.5, 0.95, 0.99 })
        {
            var exact = samples[(int)Math.Ceiling(p * samples.Count) - 1];
            Assert.Equal(
                LatencyHistogram.Bucket(exact),
                LatencyHistogram.Bucket(LatencyHistogram.Percentile(merged, p)!.Value));
        }
        Assert.Null(LatencyHistogram.Percentile(new long[LatencyHistogram.Buckets], 0.5));
    }
}
