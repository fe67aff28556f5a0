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

    /// <param name="when">Now, or later: the trusted side checks it (at most 30 days ahead, not both a delay and a
    /// time).</param>
    Task<Guid> EmitAsync(
        string worker,
        ReadOnlyMemory<byte> eventJson,
        EmitWhen when,
        CancellationToken cancellationToken);
}
