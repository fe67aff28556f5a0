using RabbitMQ.Client;
using Workq.Shared.Messaging;

namespace Workq.Worker.Settling;

/// <summary>The broker as the <see cref="RetryScheduler"/> uses it: the instance's publisher and topology.</summary>
public sealed class RetryBroker(EventPublisher publisher, Topology topology) : IRetryBroker
{
    public Task PublishAsync(
        string exchange,
        string routingKey,
        EventEnvelope envelope,
        BasicProperties properties,
        ReadOnlyMemory<byte> body,
        CancellationToken cancellationToken) =>
        publisher.PublishAsync(exchange, routingKey, envelope, properties, body, cancellationToken);

    public Task DeclareDelayAsync(int seconds, CancellationToken cancellationToken) =>
        topology.DeclareDelayAsync(seconds, cancellationToken);
}
