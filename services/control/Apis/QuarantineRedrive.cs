using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Workq.Shared.Configuration;
using Workq.Shared.Messaging;
using Workq.Shared.Poison;
using Workq.Shared.Storage;

namespace Workq.Control.Apis;

/// <summary>
/// Puts a quarantined message back where it came from. A broker message is published as it was (body and properties) to
/// the exchange and routing key it had, mandatory and confirmed, so one no queue takes any more is refused (409), never
/// dropped; an event (a delayed emit, a cron's tick) is published to its worker. An event id the message carries starts
/// again: queued.
/// </summary>
public sealed class QuarantineRedrive(
    BrokerConnection broker,
    EventPublisher publisher,
    EventStatusRecorder statuses,
    BrokerOptions options,
    EmitLimits limits)
{
    private const int NotFound = 404;

    public async Task RedriveAsync(QuarantinedMessage message, CancellationToken cancellationToken)
    {
        var properties = MessageCodec.Decode(message.Properties);
        switch (message)
        {
            case { Redrive: RedriveKind.Emit, Canvas: { } canvas, Worker: { } worker }:
                var envelope = EventHeaders.Read(properties, canvas, worker);
                try
                {
                    await publisher.PublishAsync(envelope, message.Body, cancellationToken);
                }
                catch (BrokerUnavailableException e) when (e
                    .InnerException is OperationInterruptedException { ShutdownReason.ReplyCode: NotFound })
                {
                    throw new NotRedrivableException(
                        $"Quarantined message {message.Id} cannot be redriven: canvas '{canvas}' has no exchange (is " +
                            $"it deleted?).");
                }
                break;
            case { Redrive: RedriveKind.Publish, Exchange: { } exchange }:
                await PublishAsync(message, exchange, properties, cancellationToken);
                break;
            default:
                throw new NotRedrivableException(
                    $"Quarantined message {message.Id} ({message.Source}) is a record of what happened, " +
                    "not a message to deliver: it is kept to be read, and can only be discarded.");
        }
        if (message is { EventId: { } id, Canvas: { } eventCanvas, Worker: { } eventWorker })
            statuses.Record(EventStatusUpdate.Queued(
                EventHeaders.Read(properties, eventCanvas, eventWorker) with { Id = id },
                restartedAt: DateTimeOffset.UtcNow));
    }

    private async Task PublishAsync(
        QuarantinedMessage message,
        string exchange,
        BasicProperties properties,
        CancellationToken cancellationToken)
    {
        // A node that holds the connection open but does not answer: 503 after the publish time-out, as an emit.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.PublishTimeout);
        try
        {
            var connection = await broker.GetAsync(timeout.Token);
            await using var channel = await connection
                .CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true,
                    publisherConfirmationTrackingEnabled: true), timeout.Token);
            await channel.BasicPublishAsync(
                exchange,
                message.RoutingKey ?? "",
                mandatory: true,
                properties,
                message.Body,
                timeout.Token);
        }
        catch (PublishException e) when (e.IsReturn)
        {
            throw new NotRedrivableException(
                $"Quarantined message {message.Id} cannot be redriven: no queue takes it at exchange '{exchange}' " +
                $"with routing key '{message.RoutingKey}' any more (the queue it came from is gone).");
        }
        catch (PublishException)
        {
            // A nack: the queue it goes to is full.
            throw new QueueFullException(
                message.Canvas ?? "?",
                message.Worker ?? message.RoutingKey ?? "?",
                limits.MaxQueuedPerWorker);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == NotFound)
        {
            throw new NotRedrivableException(
                $"Quarantined message {message.Id} cannot be redriven: the exchange '{exchange}' does not exist.");
        }
        catch (Exception e) when (e is OperationInterruptedException or BrokerUnreachableException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new BrokerUnavailableException(
                "The broker did not confirm the redriven message; it stays in the quarantine.",
                e);
        }
    }
}
