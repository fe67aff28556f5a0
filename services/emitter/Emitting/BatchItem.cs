using Workq.Shared.Handlers.Messaging;

namespace Workq.Emitter.Emitting;

/// <summary>
/// One item of a batch emit: the event is a slice of the request body, never copied or re-serialized. <c>RunAt</c> null
/// runs it now; <c>OrderingKey</c> null runs it in no particular order; <c>Debounce</c> collapses it with the emits of
/// its key (API.md "Debounce"); <c>Priority</c> says which of the worker's queues it waits in (API.md "Priorities").
/// </summary>
public readonly record struct BatchItem(
    string Worker,
    ReadOnlyMemory<byte> Event,
    string? IdempotencyKey,
    DateTimeOffset? RunAt = null,
    string? OrderingKey = null,
    Debounce? Debounce = null,
    Priority Priority = Priority.Normal);
