using MassTransit;
using Workq.Shared.ControlPlane;

namespace Workq.Worker.Consuming;

/// <summary>
/// Tells control every half second how many events this instance runs per worker (<see cref="WorkerInstanceLoad"/>),
/// because the broker's unacked count only comes through the lagging management API. It reads the consumers' counters
/// and nothing else: no cost per event. An idle instance says so once and then stays quiet.
/// </summary>
public sealed class LoadReporter(InstanceHeartbeat instance, ConsumerLoads consumers, IBus bus, ILogger<LoadReporter> logger) : BackgroundService
{
    public static readonly TimeSpan ReportEvery = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ReportEvery);
        var busy = false;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var load = consumers.Now();
                if (load.Count == 0 && !busy) continue;
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    timeout.CancelAfter(ReportEvery);
                    // Worth nothing once the next one is due: not persisted, and dropped by the broker when late.
                    await bus.Publish(new WorkerInstanceLoad(instance.Id, load), context =>
                    {
                        context.Durable = false;
                        context.TimeToLive = 4 * ReportEvery;
                    }, timeout.Token);
                    busy = load.Count > 0;
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Load report not sent: {Reason}", e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
