using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Emitter.Emitting;

/// <summary>The emitter's stores, publisher and status recorder, as the <see cref="EventEmitter"/> uses them.</summary>
public sealed class EmitEdges(
    EventPublisher publisher,
    IdempotencyStore idempotency,
    ScheduledEventStore scheduled,
    DebounceStore debounces,
    EventStatusRecorder statuses,
    BatchStore batches) : IEmitEdges
{
    public Task<IReadOnlyDictionary<string, (Guid Id, DateTimeOffset EnqueuedAt)>> ClaimAsync(
        string canvas,
        long canvasIncarnation,
        IReadOnlyList<(string Key, Guid Id)> claims,
        DateTimeOffset enqueuedAt,
        CancellationToken cancellationToken) =>
        idempotency.ClaimAsync(canvas, canvasIncarnation, claims, enqueuedAt, cancellationToken);

    public Task ReleaseAsync(
        string canvas,
        IReadOnlyList<(string Key, Guid Id)> claims,
        CancellationToken cancellationToken) =>
        idempotency.ReleaseAsync(canvas, claims, cancellationToken);

    public Task ScheduleAsync(
        string canvas,
        long canvasIncarnation,
        IReadOnlyList<ScheduledEvent> events,
        int maxPerWorker,
        CancellationToken cancellationToken) =>
        scheduled.ScheduleAsync(canvas, canvasIncarnation, events, maxPerWorker, cancellationToken);

    public Task<DebounceOutcome> DebounceAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        Debounce debounce,
        string? idempotencyKey,
        int maxScheduled,
        CancellationToken cancellationToken) =>
        debounces.EmitAsync(envelope, body, debounce, idempotencyKey, maxScheduled, cancellationToken);

    public Task ReleaseDebounceAsync(string canvas, string worker, string key, Guid id,
        CancellationToken cancellationToken) =>
        debounces.ReleaseAsync(canvas, worker, key, id, cancellationToken);

    public IReadOnlyList<Task> PublishInOrder(
        IReadOnlyList<(EventEnvelope Envelope, ReadOnlyMemory<byte> Body)> events,
        CancellationToken cancellationToken) =>
        publisher.PublishInOrder(events, cancellationToken);

    public void RecordStatus(EventStatusUpdate update) => statuses.Record(update);

    public Task<BatchChange> AddToBatchAsync(
        string canvas,
        BatchTarget batch,
        IReadOnlyList<(Guid Id, string Worker)> events,
        CancellationToken cancellationToken) =>
        batches.AddAsync(canvas, batch.Id, events, batch.Close, whileOpen: false, cancellationToken,
            byCreate: batch.Creating);

    public void RecordEmitted(EmittedEvents events) => statuses.RecordEmitted(events);
}
