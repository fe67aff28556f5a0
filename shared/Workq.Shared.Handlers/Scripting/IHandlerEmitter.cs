using Workq.Shared.Handlers.Messaging;

namespace Workq.Shared.Handlers.Scripting;

/// <summary>Publishes a handler's emits; the worker service publishes to the same canvas with depth + 1.</summary>
public interface IHandlerEmitter
{
    /// <summary>
    /// WORKQ_MAX_EVENT_BYTES: the largest event's JSON, in bytes, as for the emit API. The worker service checks it
    /// again.
    /// </summary>
    int MaxEventBytes { get; }

    /// <param name="options">When, in which key, batch and idempotency: the trusted side checks them (at most 30 days
    /// ahead, not both a delay and a time, a batch only for an event that has one).</param>
    Task<Guid> EmitAsync(
        string worker,
        ReadOnlyMemory<byte> eventJson,
        EmitOptions options,
        CancellationToken cancellationToken);

    /// <summary>Creates a closed batch of these events with these callbacks; answers its id.</summary>
    Task<Guid> EmitBatchAsync(
        IReadOnlyList<BatchEmitItem> events,
        BatchEmitItem? onComplete,
        BatchEmitItem? onSuccess,
        CancellationToken cancellationToken);

    /// <summary>
    /// A page of the members of the batch whose callback this run is, from <paramref name="after"/> (0 first, then the
    /// last page's <c>Next</c>) on.
    /// </summary>
    Task<BatchResultsPage> BatchResultsAsync(long after, CancellationToken cancellationToken);
}
