using Workq.Control.Stats;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

public sealed record WorkerStatsView(long Queued, long InFlight, long Processed, long Failed, long DeadLettered, long Consumers);

/// <summary>The worker object of API.md; <c>code</c> only when one worker is asked for.</summary>
public sealed record WorkerView(string Canvas, string Name, int Version, string State, string? BlockedReason, int Concurrency,
    RetryPolicy? Retry, WorkerStatsView Stats, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Code = null)
{
    public static async Task<WorkerView> CreateAsync(WorkerRecord worker, QueueStats queues, bool withCode, CancellationToken cancellationToken)
    {
        var counts = await queues.GetAsync(worker.Canvas, worker.Name, cancellationToken);
        return new WorkerView(worker.Canvas, worker.Name, worker.Version, worker.State, worker.BlockedReason, worker.Concurrency, worker.Retry,
            new WorkerStatsView(counts.Queued, counts.InFlight, worker.Processed, worker.Failed, worker.DeadLettered, counts.Consumers),
            withCode ? worker.Code : null);
    }
}
