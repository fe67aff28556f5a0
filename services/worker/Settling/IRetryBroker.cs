using RabbitMQ.Client;
using Workq.Shared.Messaging;

namespace Workq.Worker.Settling;

/// <summary>
/// What the <see cref="RetryScheduler"/> needs of the broker: a confirmed publish to an exchange, and the delay
/// queue of a backoff (<see cref="RetryBroker"/>, or a test's).
/// </summary>
public interface IRetryBroker
{
    /// <summary>Completes once the broker confirmed the event.</summary>
    Task PublishAsync(
        string exchange,
        string routingKey,
        EventEnvelope envelope,
        BasicProperties properties,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken);

    /// <summary>Declares the delay queue whose TTL is <paramref name="seconds"/> (idempotent).</summary>
    Task DeclareDelayAsync(int seconds, CancellationToken cancellationToken);
}
