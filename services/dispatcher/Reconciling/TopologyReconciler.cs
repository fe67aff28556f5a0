using Workq.Shared.Storage;

namespace Workq.Dispatcher.Reconciling;

/// <summary>
/// At start, re-declares every canvas exchange, worker queue and ordering lane from the registry, so a broker that
/// lost its definitions (a new node, a reset) serves every worker again. Declarations are idempotent.
/// </summary>
public sealed class TopologyReconciler(CanvasStore canvases, WorkerStore workers, Shared.Messaging.Topology topology, ILogger<TopologyReconciler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var canvasNames = (await canvases.TokenHashesAsync(stoppingToken)).Keys;
        foreach (var canvas in canvasNames) await topology.DeclareCanvasAsync(canvas, stoppingToken);
        var all = await workers.ListAsync(canvas: null, stoppingToken);
        foreach (var worker in all)
        {
            await topology.DeclareWorkerAsync(worker.Canvas, worker.Name, stoppingToken);
            if (worker.OrderingLanes > 0) await topology.DeclareLanesAsync(worker.Canvas, worker.Name, worker.OrderingLanes, stoppingToken);
        }
        logger.LogInformation("Topology reconciled: {Canvases} canvases, {Workers} workers", canvasNames.Count(), all.Count);
    }
}
