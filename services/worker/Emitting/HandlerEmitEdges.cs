using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Worker.Emitting;

/// <summary>
/// What a handler's emits go out on: the broker, the delayed events, statuses, batches and idempotency keys; and where
/// its durable steps are kept.
/// </summary>
public sealed record HandlerEmitEdges(
    EventPublisher Publisher,
    ScheduledEventStore Scheduled,
    EventStatusRecorder Statuses,
    EventStatusStore StatusStore,
    BatchStore Batches,
    IdempotencyStore Idempotency,
    EmittedIds Kept,
    StepStore Steps,
    DebounceStore Debounces);
