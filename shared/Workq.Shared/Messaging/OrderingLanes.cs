using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Logging;
using Workq.Shared.ControlPlane;
using Workq.Shared.Storage;

namespace Workq.Shared.Messaging;

/// <summary>
/// Makes sure a worker has its ordering lanes before a keyed event is published to one (docs/DESIGN.md "Ordering
/// keys"): on the first keyed event for a worker, declares its lanes, records them in its row and tells the worker
/// instances, which start consuming them. Which workers have lanes is cached per process, so this costs one database
/// read per worker per process (read again after a control-plane change of the worker, which may have deleted them),
/// never one per event.
/// </summary>
public sealed class OrderingLanes(
    WorkerStore workers,
    Topology topology,
    IBus controlPlane,
    ILogger<OrderingLanes> logger)
{
    private readonly ConcurrentDictionary<(string Canvas, string Worker), Lazy<Task<int>>> known = new();

    /// <summary>
    /// The routing key of a keyed event; a worker that does not exist gets its default lane, which nothing binds, so
    /// the event is parked as unhandled.
    /// </summary>
    public async ValueTask<string> RoutingKeyAsync(
        string canvas,
        string worker,
        string key,
        CancellationToken cancellationToken)
    {
        var lanes = await LanesAsync(canvas, worker, cancellationToken);
        return OrderingKeys.RoutingKey(worker, OrderingKeys.Lane(key, lanes == 0 ? OrderingKeys.Lanes : lanes));
    }

    /// <summary>
    /// A control-plane change of the worker: it may have been deleted (and its lanes with it), so the next keyed event
    /// reads its row again.
    /// </summary>
    public void Forget(string canvas, string worker) => known.TryRemove((canvas, worker), out _);

    private async Task<int> LanesAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        var entry = known.GetOrAdd((canvas, worker), k => new Lazy<Task<int>>(() => EnsureAsync(k.Canvas, k.Worker)));
        try
        {
            return await entry.Value.WaitAsync(cancellationToken);
        }
        catch when (entry.Value.IsFaulted)
        {
            // Not cached: the next keyed event tries again.
            known.TryRemove(new KeyValuePair<(string, string), Lazy<Task<int>>>((canvas, worker), entry));
            throw;
        }
    }

    // Not the caller's token: the result is shared by every caller, and a declaration on the wire is finished either
    // way. The worker is held meanwhile (its canvas alive, its name locked as deploys and deletions lock it): lanes
    // declared here never outlive a worker or canvas deleted at the same moment.
    private async Task<int> EnsureAsync(string canvas, string worker)
    {
        WorkerStore.WorkerHold hold;
        try
        {
            hold = await workers.HoldAsync(canvas, canvasIncarnation: 0, worker, CancellationToken.None);
        }
        catch (CanvasGoneException)
        {
            return 0;
        }
        int lanes;
        await using (hold)
        {
            if (hold.Worker is not { } record) return 0;
            if (record.OrderingLanes > 0) return record.OrderingLanes;
            try
            {
                await topology.DeclareLanesAsync(canvas, worker, OrderingKeys.Lanes, CancellationToken.None);
            }
            catch
            {
                await topology.DeleteLanesAsync(canvas, worker, OrderingKeys.Lanes, CancellationToken.None);
                throw;
            }
            lanes = await hold.EnableOrderingLanesAsync(OrderingKeys.Lanes, CancellationToken.None);
            await hold.CommitAsync(CancellationToken.None);
        }
        await controlPlane.Publish(new WorkerChanged(canvas, worker));
        logger.LogInformation("Ordering lanes of {Canvas}/{Worker} declared: {Lanes}", canvas, worker, lanes);
        return lanes;
    }
}
