using Workq.Shared.Storage;

namespace Workq.Dispatcher.Reconciling;

/// <summary>
/// At start, re-declares every canvas exchange, worker queue and ordering lane from the registry, so a broker that
/// lost its definitions (a new node, a reset) serves every worker again. Declarations are idempotent, and each is made
/// while its canvas (and worker) is held alive: none of a canvas or worker deleted meanwhile comes back.
/// </summary>
public sealed class TopologyReconciler(
    CanvasStore canvases,
    WorkerStore workers,
    Shared.Messaging.Topology topology,
    ILogger<TopologyReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
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
