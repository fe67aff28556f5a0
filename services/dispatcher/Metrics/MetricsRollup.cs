using Workq.Shared.Configuration;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.Metrics;

/// <summary>
/// Every few minutes, recomputes the recent hours of metrics_hour from their minutes and drops metrics past
/// their retention. Idempotent, so any number of dispatchers may run it.
/// </summary>
public sealed class MetricsRollup(
    MetricsStore metrics,
    RetentionOptions options,
    ILogger<MetricsRollup> logger) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromMinutes(5);
    // Dead letters and late flushes land in minutes already past: the last few hours are recomputed each time.
    private static readonly TimeSpan Recompute = TimeSpan.FromHours(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every);
        do
        {
            try
            {
                await metrics.RollUpAsync(
                    Recompute,
                    options.MetricsMinuteRetention,
                    options.MetricsHourRetention,
                    stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not roll up the metrics; will retry in {Interval}", Every);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
