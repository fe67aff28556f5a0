using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Logging;
using Workq.Shared.ControlPlane;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Storage;

namespace Workq.Shared.Messaging;

/// <summary>
/// The queues a worker gets only once it needs them: its ordering lanes, on its first keyed event (docs/DESIGN.md
/// "Ordering keys"), and its high and low queues, on its first event of either priority (docs/DESIGN.md
/// "Priorities"). On the first such event, declares them, records them in the worker's row and tells the worker
/// instances, which start consuming them. What each worker has is cached per process, so this costs one database read
/// per worker and kind per process (read again after a control-plane change of the worker, which may have deleted
/// them), never one per event.
/// </summary>
public sealed class OnDemandQueues(
    WorkerStore workers,
    Topology topology,
    IBus controlPlane,
    ILogger<OnDemandQueues> logger)
{
    private readonly ConcurrentDictionary<(string Canvas, string Worker), Lazy<Task<int>>> lanes = new();
    private readonly ConcurrentDictionary<(string Canvas, string Worker), Lazy<Task<int>>> priorities = new();

    /// <summary>
    /// The routing key of a keyed event; a worker that does not exist gets its default lane, which nothing binds, so
    /// the event is parked as unhandled.
    /// </summary>
    public async ValueTask<string> LaneRoutingKeyAsync(
        string canvas,
        string worker,
        string key,
        CancellationToken cancellationToken)
    {
        var count = await EnsureAsync(lanes, canvas, worker, Lanes, cancellationToken);
        return OrderingKeys.RoutingKey(worker, OrderingKeys.Lane(key, count == 0 ? OrderingKeys.Lanes : count));
    }

    /// <summary>
    /// The routing key of a high or low event; for a worker that does not exist, nothing binds it either, so the event
    /// is parked as unhandled.
    /// </summary>
    public async ValueTask<string> PriorityRoutingKeyAsync(
        string canvas,
        string worker,
        Priority priority,
        CancellationToken cancellationToken)
    {
        await EnsureAsync(priorities, canvas, worker, PriorityQueues, cancellationToken);
        return Priorities.RoutingKey(worker, priority);
    }

    /// <summary>
    /// A control-plane change of the worker: it may have been deleted (and its queues with it), so the next event that
    /// needs them reads its row again.
    /// </summary>
    public void Forget(string canvas, string worker)
    {
        lanes.TryRemove((canvas, worker), out _);
        priorities.TryRemove((canvas, worker), out _);
    }

    private static async Task<int> EnsureAsync(
        ConcurrentDictionary<(string Canvas, string Worker), Lazy<Task<int>>> known,
        string canvas,
        string worker,
        Func<string, string, Task<int>> ensure,
        CancellationToken cancellationToken)
    {
        var entry = known.GetOrAdd((canvas, worker), k => new Lazy<Task<int>>(() => ensure(k.Canvas, k.Worker)));
        try
        {
            return await entry.Value.WaitAsync(cancellationToken);
        }
        catch when (entry.Value.IsFaulted)
        {
            // Not cached: the next event tries again.
            known.TryRemove(new KeyValuePair<(string, string), Lazy<Task<int>>>((canvas, worker), entry));
            throw;
        }
    }

    private Task<int> Lanes(string canvas, string worker) => DeclareAsync(canvas, worker, "Ordering lanes",
        record => record.OrderingLanes,
        () => topology.DeclareLanesAsync(canvas, worker, OrderingKeys.Lanes, CancellationToken.None),
        () => topology.DeleteLanesAsync(canvas, worker, OrderingKeys.Lanes, CancellationToken.None),
        hold => hold.EnableOrderingLanesAsync(OrderingKeys.Lanes, CancellationToken.None));

    private Task<int> PriorityQueues(string canvas, string worker) => DeclareAsync(canvas, worker, "Priority queues",
        record => record.PriorityQueues ? 1 : 0,
        () => topology.DeclarePriorityQueuesAsync(canvas, worker, CancellationToken.None),
        () => topology.DeletePriorityQueuesAsync(canvas, worker, CancellationToken.None),
        async hold => await hold.EnablePriorityQueuesAsync(CancellationToken.None) ? 1 : 0);

    // Not the caller's token: the result is shared by every caller, and a declaration on the wire is finished either
    // way. The worker is held meanwhile (its canvas alive, its name locked as deploys and deletions lock it): queues
    // declared here never outlive a worker or canvas deleted at the same moment.
    private async Task<int> DeclareAsync(
        string canvas,
        string worker,
        string what,
        Func<WorkerRecord, int> has,
        Func<Task> declare,
        Func<Task> undo,
        Func<WorkerStore.WorkerHold, Task<int>> record)
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
        int count;
        await using (hold)
        {
            if (hold.Worker is not { } current) return 0;
            if (has(current) > 0) return has(current);
            try
            {
                await declare();
            }
            catch
            {
                await undo();
                throw;
            }
            count = await record(hold);
            await hold.CommitAsync(CancellationToken.None);
        }
        await controlPlane.Publish(new WorkerChanged(canvas, worker));
        logger.LogInformation("{What} of {Canvas}/{Worker} declared: {Count}", what, canvas, worker, count);
        return count;
    }
}
