using System.Text.Json.Serialization;
using Workq.Control.Stats;
using Workq.Shared.Configuration;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record WorkerStatsView(long Queued, long InFlight, long Processed, long Failed, long DeadLettered, long Consumers);

/// <summary>
/// The quotas every worker runs under (WORKQ_* settings, the same on every service): its queue's length limit, the
/// emits one event may make, and its canvas's emit rate when there is one (<c>500/s,burst=1000</c>).
/// </summary>
public sealed record WorkerLimitsView(int MaxQueued, int MaxEmitsPerEvent, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CanvasEmitRate)
{
    public static WorkerLimitsView From(WorkqOptions options) =>
        new(options.MaxQueuedPerWorker, options.MaxEmitsPerEvent, options.CanvasEmitRate?.ToString());
}

/// <summary>The worker object of API.md; <c>code</c> only when one worker is asked for.</summary>
public sealed record WorkerView(string Canvas, string Name, int Version, string State, string? BlockedReason, int Concurrency,
    RetryPolicy? Retry, WorkerStatsView Stats, WorkerLimitsView Limits, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code = null);

/// <summary>Builds worker objects: the registry's record, the broker's counts, and the limits.</summary>
public sealed class WorkerViews(QueueStats queues, WorkqOptions options)
{
    private readonly WorkerLimitsView limits = WorkerLimitsView.From(options);

    public async Task<WorkerView> CreateAsync(WorkerRecord worker, bool withCode, CancellationToken cancellationToken)
    {
        var counts = await queues.GetAsync(worker.Canvas, worker.Name, cancellationToken);
        return new WorkerView(worker.Canvas, worker.Name, worker.Version, worker.State, worker.BlockedReason, worker.Concurrency, worker.Retry,
            new WorkerStatsView(counts.Queued, counts.InFlight, worker.Processed, worker.Failed, worker.DeadLettered, counts.Consumers),
            limits, withCode ? worker.Code : null);
    }
}
