using System.Text.Json.Serialization;

namespace Workq.Shared.Storage;

/// <summary>
/// A worker's row in the registry. <c>Change</c> grows with every change of code, settings or state.
/// <c>OrderingLanes</c> is 0 until its first keyed event (docs/DESIGN.md "Ordering keys"), then the number of its lane
/// queues, for good. <c>PriorityQueues</c> is false until its first high or low event (docs/DESIGN.md "Priorities"),
/// then true, for good. <c>Incarnation</c> is new with every create of the name, <c>CanvasIncarnation</c> its canvas's
/// (docs/DESIGN.md "Deleting a canvas or a worker").
/// </summary>
public sealed record WorkerRecord(
    string Canvas,
    string Name,
    int Version,
    string Code,
    string State,
    string? BlockedReason,
    string? StateUnderBlock,
    int Concurrency,
    RetryPolicy? Retry,
    long Processed,
    long Failed,
    long DeadLettered,
    long Change,
    RateLimit? RateLimit = null,
    int OrderingLanes = 0,
    long Incarnation = 0,
    long CanvasIncarnation = 0,
    bool PriorityQueues = false)
{
    [JsonIgnore] public bool IsRunning => State == WorkerStates.Running;
}
