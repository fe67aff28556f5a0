using Workq.Shared.Configuration;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.Statuses;

/// <summary>
/// Drops event statuses past <c>WORKQ_EVENT_STATUS_RETENTION_HOURS</c>; finished batches, and the durable steps of
/// events not written to since and not sleeping or waiting, past <c>WORKQ_BATCH_RETENTION_HOURS</c>. Idempotent, so any
/// number of dispatchers may run it. Debounce keys a day past their period, their run no longer waiting.
/// </summary>
public sealed class EventStatusPruner(
    EventStatusStore statuses,
    BatchStore batches,
    StepStore steps,
    DebounceStore debounces,
    EventStatusOptions options,
    ILogger<EventStatusPruner> logger) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every);
        try
        {
            do
            {
                try
                {
                    var pruned = await statuses.PruneAsync(options.Retention, stoppingToken);
                    if (pruned > 0) logger.LogInformation(
                        "Pruned {Count} event statuses older than {Hours} hours",
                        pruned,
                        options.Retention.TotalHours);
                    var batchesPruned = await batches.PruneAsync(
                        DateTimeOffset.UtcNow - options.BatchRetention,
                        stoppingToken);
                    if (batchesPruned > 0) logger.LogInformation(
                        "Pruned {Count} batches finished over {Hours} hours ago",
                        batchesPruned,
                        options.BatchRetention.TotalHours);
                    var stepsPruned = await steps.PruneAsync(options.BatchRetention, stoppingToken);
                    if (stepsPruned > 0) logger.LogInformation("Pruned {Count} durable steps and signals", stepsPruned);
                    var keysPruned = await debounces.PruneAsync(stoppingToken);
                    if (keysPruned > 0) logger.LogInformation("Pruned {Count} debounce keys", keysPruned);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Could not prune event statuses; will retry in {Interval}", Every);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
