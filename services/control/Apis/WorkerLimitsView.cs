using System.Text.Json.Serialization;
using Workq.Shared.Configuration;

namespace Workq.Control.Apis;

/// <summary>
/// The quotas every worker runs under (WORKQ_* settings, the same on every service): its queue's length limit, the
/// emits one event may make, and its canvas's emit rate when there is one (<c>500/s,burst=1000</c>).
/// </summary>
public sealed record WorkerLimitsView(
    int MaxQueued,
    int MaxEmitsPerEvent,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CanvasEmitRate,
    int MaxScheduled)
{
    public static WorkerLimitsView From(EmitLimits options) =>
        new(
            options.MaxQueuedPerWorker,
            options.MaxEmitsPerEvent,
            options.CanvasEmitRate?.ToString(),
            options.MaxScheduledPerWorker);
}
