using Workq.Shared.Messaging;

namespace Workq.Dispatcher.Crons;

/// <summary>
/// Puts one event on the broker and returns once it is durable; in production <see
/// cref="EventPublisher.PublishAsync"/>.
/// </summary>
public delegate Task PublishEvent(
    EventEnvelope envelope,
    ReadOnlyMemory<byte> body,
    CancellationToken cancellationToken);
