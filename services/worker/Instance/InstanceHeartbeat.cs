using Workq.Shared.Storage;

namespace Workq.Worker.Instance;

/// <summary>
/// Tells the registry this worker instance is alive (every few seconds), so control knows whom to wait for.
/// </summary>
public sealed class InstanceHeartbeat(InstanceStore instances, ILogger<InstanceHeartbeat> logger) : BackgroundService
{
    public Guid Id { get; } = Guid.CreateVersion7();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(InstanceStore.AliveFor / 3);
        try
        {
            do
            {
                try
                {
                    await instances.HeartbeatAsync(Id, "worker", stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Heartbeat not recorded: {Reason}", e.Message);
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await instances.LeaveAsync(Id, cancellationToken);
        }
        catch (Exception e)
        {
            logger.LogWarning("Could not deregister instance {Instance}: {Reason}", Id, e.Message);
        }
    }
}
