using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Emitter.Emitting;

/// <summary>
/// What the <see cref="EventEmitter"/> carries an emit out on: the idempotency keys, the delayed events' store, the
/// broker and the event statuses (<see cref="EmitEdges"/>, or a test's).
/// </summary>
public interface IEmitEdges
{
    /// <summary>Claims the keys; answers every key's owner, this emit's or an earlier one's.</summary>
    Task<IReadOnlyDictionary<string, (Guid Id, DateTimeOffset EnqueuedAt)>> ClaimAsync(
        string canvas,
        long canvasIncarnation,
        IReadOnlyList<(string Key, Guid Id)> claims,
        DateTimeOffset enqueuedAt,
        CancellationToken cancellationToken);

    /// <summary>Gives back keys whose events could not be enqueued.</summary>
    Task ReleaseAsync(string canvas, IReadOnlyList<(string Key, Guid Id)> claims, CancellationToken cancellationToken);

    /// <summary>Stores the delayed events, all or none, within each worker's limit.</summary>
    Task ScheduleAsync(
        string canvas,
        long canvasIncarnation,
        IReadOnlyList<ScheduledEvent> events,
        int maxPerWorker,
        CancellationToken cancellationToken);

    /// <summary>Collapses a debounced emit into its key's run, or starts one (API.md "Debounce").</summary>
    Task<DebounceOutcome> DebounceAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        Debounce debounce,
        string? idempotencyKey,
        int maxScheduled,
        CancellationToken cancellationToken);

    /// <summary>Gives back the key of a leading run that could not be published.</summary>
    Task ReleaseDebounceAsync(string canvas, string worker, string key, Guid id, CancellationToken cancellationToken);

    /// <summary>
    /// Publishes the events, those of one worker and ordering key one after another; the tasks follow their order.
    /// </summary>
    IReadOnlyList<Task> PublishInOrder(
        IReadOnlyList<(EventEnvelope Envelope, ReadOnlyMemory<byte> Body)> events,
        CancellationToken cancellationToken);

    void RecordStatus(EventStatusUpdate update);

    /// <summary>Adds enqueued events to a batch (closing it when asked), unless it finished.</summary>
    Task<BatchChange> AddToBatchAsync(
        string canvas,
        BatchTarget batch,
        IReadOnlyList<(Guid Id, string Worker)> events,
        CancellationToken cancellationToken);

    void RecordEmitted(EmittedEvents events);
}
