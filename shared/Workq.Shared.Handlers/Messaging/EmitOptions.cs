namespace Workq.Shared.Handlers.Messaging;

/// <summary>
/// How a handler's emit is made: when it runs (after <c>Delay</c>, or at <c>RunAt</c>, or, neither, now); with an
/// <c>OrderingKey</c>, after the events emitted earlier with the same key (API.md "Ordering keys"); with
/// <c>InBatch</c>, as a member of the batch of the event that emits it; with an <c>IdempotencyKey</c>, once per key and
/// canvas, in place of the id made from the event's (API.md "Exactly-once fan-out"); within a <c>Step</c>, the step's
/// key, so its id is made from the step's place rather than the run's (a replayed step emits nothing); with a
/// <c>Debounce</c>, collapsed with the emits of its key (API.md "Debounce"); with a <c>Priority</c>, in the worker's
/// queue for it (API.md "Priorities").
/// </summary>
public readonly record struct EmitOptions(
    TimeSpan? Delay,
    DateTimeOffset? RunAt,
    string? OrderingKey = null,
    bool InBatch = false,
    string? IdempotencyKey = null,
    string? Step = null,
    Debounce? Debounce = null,
    Priority Priority = Priority.Normal)
{
    public static readonly EmitOptions Now = default;
}
