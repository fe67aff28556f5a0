namespace Workq.Bench.Reporting;

/// <summary>
/// Where in time a queue-wait run's slow events were: its enqueue times in 100 ms steps, each with its count and its
/// slowest wait. A tail made of a few stretches where everything waited is a stall (a pause, a flush, a burst of other
/// work); a tail spread over the whole run is the CPU queue.
/// </summary>
public sealed record WaitTimeline(int Steps, int SlowSteps, int SlowEvents, string Worst)
{
    private const long StepMilliseconds = 100;

    /// <summary>
    /// Steps are slow when their slowest wait is past <paramref name="slowMs"/>; <see cref="Worst"/> names the five
    /// slowest, as seconds from the run's first enqueue and as the time of day (UTC), to set beside the broker's log.
    /// </summary>
    public static WaitTimeline Of(IReadOnlyList<QueueWait> waits, double slowMs, string? seriesFile)
    {
        var timed = waits.Where(w => w.EnqueuedAt > 0).ToList();
        if (timed.Count == 0) return new WaitTimeline(0, 0, 0, "");
        var start = timed.Min(w => w.EnqueuedAt);
        var steps = timed
            .GroupBy(w => (w.EnqueuedAt - start) / StepMilliseconds)
            .OrderBy(g => g.Key)
            .Select(g => (At: g.Key * StepMilliseconds / 1000.0, Count: g.Count(), Max: g.Max(w => w.Milliseconds)))
            .ToList();
        if (seriesFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(seriesFile)!);
            File.WriteAllLines(seriesFile, ["seconds\tevents\tmax_wait_ms", .. steps.Select(s =>
                string.Create(CultureInfo.InvariantCulture, $"{s.At:F1}\t{s.Count}\t{s.Max:F1}"))]);
        }
        var worst = string.Join(", ", steps
            .OrderByDescending(s => s.Max)
            .Take(5)
            .Select(s => string.Create(
                CultureInfo.InvariantCulture,
                $"{s.At:F1} s ({DateTimeOffset.FromUnixTimeMilliseconds(start + (long)(s.At * 1000)):HH:mm:ss.f}): " +
                    $"{s.Max:F0} ms")));
        return new WaitTimeline(
            steps.Count,
            steps.Count(s => s.Max > slowMs),
            timed.Count(w => w.Milliseconds > slowMs),
            worst);
    }
}
