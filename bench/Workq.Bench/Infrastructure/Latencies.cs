namespace Workq.Bench.Infrastructure;

/// <summary>Percentiles of a set of millisecond samples (nearest rank).</summary>
public sealed record Latencies(int Count, double P50, double P90, double P95, double P99, double Max, double Mean)
{
    public static Latencies Of(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0) return new Latencies(
            0,
            double.NaN,
            double.NaN,
            double.NaN,
            double.NaN,
            double.NaN,
            double.NaN);
        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Latencies(
            sorted.Length,
            Round(Rank(0.50)),
            Round(Rank(0.90)),
            Round(Rank(0.95)),
            Round(Rank(0.99)),
            Round(sorted[^1]),
            Round(sorted.Average()));
    }

    private static double Round(double value) => Math.Round(value, 2);
}
