using Workq.Shared.Poison;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.Reconciling;

/// <summary>
/// At start, re-declares every canvas exchange, worker queue and ordering lane from the registry, so a broker that
/// lost its definitions (a new node, a reset) serves every worker again. Declarations are idempotent, and each is made
/// while its canvas (and worker) is held alive: none of a canvas or worker deleted meanwhile comes back. A database or
/// broker that is away (or out of connection slots) delays it, with backoff, rather than stop the dispatcher.
/// </summary>
public sealed class TopologyReconciler(
    CanvasStore canvases,
    WorkerStore workers,
    Shared.Messaging.Topology topology,
    ILogger<TopologyReconciler> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var backoff = TimeSpan.FromSeconds(1); ; backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff)
        {
            try
            {
                await ReconcileAsync(stoppingToken);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && Failures.IsTransient(e))
            {
                logger.LogWarning(e, "Topology reconcile failed; trying again in {Backoff}", backoff);
                await Task.Delay(backoff, stoppingToken);
            }
        }
    }

    private async Task ReconcileAsync(CancellationToken stoppingToken)
    {
        var canvasNames = (await canvases.TokenHashesAsync(stoppingToken)).Keys;
        foreach (var canvas in canvasNames) await canvases.WhileAliveAsync(
            canvas,
            token => topology.DeclareCanvasAsync(canvas, token),
            stoppingToken);
        var all = await workers.ListAsync(canvas: null, stoppingToken);
        foreach (var worker in all)
        {
            try
            {
                await using var hold = await workers.HoldAsync(
                    worker.Canvas,
                    canvasIncarnation: 0,
                    worker.Name,
                    stoppingToken);
                if (hold.Worker is not { } alive) continue;
                await topology.DeclareWorkerAsync(alive.Canvas, alive.Name, stoppingToken);
                if (alive.OrderingLanes > 0) await topology.DeclareLanesAsync(
                    alive.Canvas,
                    alive.Name,
                    alive.OrderingLanes,
                    stoppingToken);
                if (alive.PriorityQueues)
                    await topology.DeclarePriorityQueuesAsync(alive.Canvas, alive.Name, stoppingToken);
                await hold.CommitAsync(stoppingToken);
            }
            catch (CanvasGoneException)
            {
                // Deleted since the list was read: its queues are gone and stay gone.
            }
        }
        logger.LogInformation(
            "Topology reconciled: {Canvases} canvases, {Workers} workers",
            canvasNames.Count(),
            all.Count);
    }
}
