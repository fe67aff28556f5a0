using Workq.Shared.Poison;

namespace Workq.Dispatcher.Crons;

/// <summary>
/// Fires due cron ticks just after every second boundary (ticks fall on whole minutes, so an event
/// leaves within about a tenth of a second of its tick) and cleans up old tick records now and then.
/// Every dispatcher instance runs this; the claims in the database keep it to one event per tick.
/// </summary>
public sealed class CronLoop(CronFirer firer, TimeProvider clock, ILogger<CronLoop> logger) : BackgroundService
{
    private static readonly TimeSpan CleanUpEvery = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan PastTheSecond = TimeSpan.FromMilliseconds(20);

    private readonly OutageLog outage = new(logger, "Reading due crons", clock);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastCleanUp = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await firer.FireDueAsync(stoppingToken);
                if (clock.GetUtcNow() - lastCleanUp > CleanUpEvery)
                {
                    var removed = await firer.CleanUpAsync(stoppingToken);
                    if (removed > 0) logger.LogInformation(
                        "Removed {Count} cron tick records older than a day",
                        removed);
                    lastCleanUp = clock.GetUtcNow();
                }
                outage.Succeeded();
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Every second while it lasts: logged once, and a summary a minute.
                outage.Failed(e);
            }
            try
            {
                var now = clock.GetUtcNow();
                await Task.Delay(
                    TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(now.Ticks % TimeSpan.TicksPerSecond) + PastTheSecond,
                    clock,
                    stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
