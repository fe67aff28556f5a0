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

    /// <summary>WORKQ_MAX_STEP_BYTES: the largest step result's JSON. The worker service checks it again.</summary>
    int MaxStepBytes { get; }

    /// <param name="options">When, in which key, batch and idempotency: the trusted side checks them (at most 30 days
    /// ahead, not both a delay and a time, a batch only for an event that has one).</param>
    Task<Guid> EmitAsync(
        string worker,
        ReadOnlyMemory<byte> eventJson,
        EmitOptions options,
        CancellationToken cancellationToken);

    /// <summary>
    /// Creates a closed batch of these events with these callbacks; answers its id. <paramref name="step"/>: the step
    /// it is made in (<see cref="HandlerSteps.Current"/>), whose key its id is made from.
    /// </summary>
    Task<Guid> EmitBatchAsync(
        IReadOnlyList<BatchEmitItem> events,
        BatchEmitItem? onComplete,
        BatchEmitItem? onSuccess,
        string? step,
        CancellationToken cancellationToken);

    /// <summary>What earlier runs of the event kept: its steps, sleeps and waits, and the signals sent ahead.</summary>
    Task<StepState> LoadStepsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Keeps a finished step's result (or a wait's value) under <paramref name="key"/>, taking the early
    /// <paramref name="signal"/> it consumed; null when it was kept, or the result another run of the event kept first.
    /// Past a limit (API.md) it throws <see cref="InvalidOperationException"/> naming it.
    /// </summary>
    Task<ReadOnlyMemory<byte>?> SaveStepAsync(
        string key,
        ReadOnlyMemory<byte> json,
        string? signal,
        CancellationToken cancellationToken);

    /// <summary>
    /// A page of the members of the batch whose callback this run is, from <paramref name="after"/> (0 first, then the
    /// last page's <c>Next</c>) on.
    /// </summary>
    Task<BatchResultsPage> BatchResultsAsync(long after, CancellationToken cancellationToken);
}
