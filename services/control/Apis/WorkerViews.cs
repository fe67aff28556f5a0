using Workq.Control.Stats;
using Workq.Shared.Configuration;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// Builds worker objects: the registry's record, the live counts (<c>queued</c> and <c>consumers</c> from the queue,
/// <c>inFlight</c> and draining consumers from the worker instances' reports), and the limits.
/// </summary>
public sealed class WorkerViews(
    LiveQueueCounts queues,
    InstanceLoads loads,
    ScheduledEventStore scheduled,
    EmitLimits options)
{
    private readonly WorkerLimitsView limits = WorkerLimitsView.From(options);

    public async Task<WorkerView> CreateAsync(WorkerRecord worker, bool withCode, CancellationToken cancellationToken)
        =>
        (await CreateAsync([worker], withCode, cancellationToken))[0];

    /// <summary>
    /// Many at once: their queues are read together, in parallel, when the live counts are not fresh.
    /// </summary>
    public async Task<IReadOnlyList<WorkerView>> CreateAsync(
        IReadOnlyList<WorkerRecord> workers,
        bool withCode,
        CancellationToken cancellationToken)
    {
        // Each worker's queue, then its ordering lanes, then its high and low queues: queued counts them all.
        var queueCounts = queues.GetAsync(
            workers.SelectMany(w => Topology.WorkerQueues(w.Canvas, w.Name, w.OrderingLanes, w.PriorityQueues))
                .ToList(),
            cancellationToken);
        var delayed = await scheduled.CountAsync(workers.Select(w => (w.Canvas, w.Name)).ToList(), cancellationToken);
        var counts = await queueCounts;
        var views = new WorkerView[workers.Count];
        for (int i = 0, first = 0; i < workers.Count; first += QueueCount(workers[i]), i++)
        {
            var worker = workers[i];
            var normal = 0L;
            for (var q = first; q <= first + worker.OrderingLanes; q++) normal += counts[q].Queued;
            var (high, low) = worker.PriorityQueues
                ? (counts[first + worker.OrderingLanes + 1].Queued, counts[first + worker.OrderingLanes + 2].Queued)
                : (0L, 0L);
            var queued = high + normal + low;
            var load = loads.Of(worker.Canvas, worker.Name);
            // A quorum queue counts a cancelled consumer until its deliveries settle: a paused worker finishing its
            // events has none.
            var consumers = Math.Max(0, counts[first].Consumers - load.Draining);
            var waiting = delayed.GetValueOrDefault((worker.Canvas, worker.Name));
            views[i] = new WorkerView(worker.Canvas, worker.Name, worker.Version, worker.State, worker
                .BlockedReason, worker.Concurrency, worker.Retry, worker.RateLimit,
                new WorkerStatsView(
                    queued,
                    load.InFlight,
                    worker.Processed,
                    worker.Failed,
                    worker.DeadLettered,
                    consumers,
                    waiting.Delayed,
                    waiting.Sleeping,
                    waiting.Waiting,
                    new QueuedByPriority(high, normal, low)),
                limits, loads.RunnerOf(worker.Canvas), withCode ? worker.Code : null);
        }
        return views;
    }

    private static int QueueCount(WorkerRecord worker) =>
        1 + worker.OrderingLanes + (worker.PriorityQueues ? Priorities.Queued.Length : 0);
}
