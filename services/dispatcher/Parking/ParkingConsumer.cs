using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.Parking;

/// <summary>
/// Takes events off the two shared queues that hold what no worker queue would: the unhandled
/// queue (emits to workers that do not exist) and the dead-letter queue. Each event is acked only
/// after PostgreSQL has it, so neither path can lose one.
/// </summary>
public sealed class ParkingConsumer(BrokerConnection broker, UnhandledStore unhandled, DeadLetterStore deadLetters, EventStatusRecorder statuses,
    ILogger<ParkingConsumer> logger) : BackgroundService
{
    private IChannel? channel;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = await broker.GetAsync(stoppingToken);
        // One at a time: parked events must keep their queue order, since they are replayed oldest first.
        channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: 1), stoppingToken);
        await channel.BasicQosAsync(0, 64, global: false, stoppingToken);

        var parking = new AsyncEventingBasicConsumer(channel);
        parking.ReceivedAsync += (_, delivery) => HandleAsync(delivery, ParkAsync, stoppingToken);
        await channel.BasicConsumeAsync(Shared.Messaging.Topology.UnhandledQueue, autoAck: false, parking, stoppingToken);

        var dead = new AsyncEventingBasicConsumer(channel);
        dead.ReceivedAsync += (_, delivery) => HandleAsync(delivery, KeepDeadLetterAsync, stoppingToken);
        await channel.BasicConsumeAsync(Shared.Messaging.Topology.DeadLetterQueue, autoAck: false, dead, stoppingToken);
    }

    private async Task HandleAsync(BasicDeliverEventArgs delivery, Func<BasicDeliverEventArgs, CancellationToken, Task> keep, CancellationToken stoppingToken)
    {
        try
        {
            await keep(delivery, stoppingToken);
            await channel!.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not store an event from {Queue}; it goes back to the queue", delivery.Exchange);
            await channel!.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
        }
    }

    private async Task ParkAsync(BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var envelope = EventHeaders.Read(delivery.BasicProperties, delivery.RoutingKey);
        await unhandled.ParkAsync(envelope, delivery.Body, cancellationToken);
        logger.LogDebug("Parked event {EventId} for unknown worker {Canvas}/{Worker}", envelope.Id, envelope.Canvas, envelope.Worker);
    }

    private async Task KeepDeadLetterAsync(BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var headers = delivery.BasicProperties.Headers;
        var envelope = EventHeaders.Read(delivery.BasicProperties, delivery.RoutingKey);
        var reason = EventHeaders.String(headers, EventHeaders.DeadLetterReason) ?? EventHeaders.String(headers, "x-first-death-reason") switch
        {
            "delivery_limit" => $"delivery limit: delivered {Shared.Messaging.Topology.DeliveryLimit} times without completing (a worker process died or lost its connection each time)",
            { } other => other,
            null => "dead-lettered by the broker",
        };
        // The broker counts every failed delivery in x-delivery-count and gives up when it reaches the limit.
        var attempts = (int)(EventHeaders.Long(headers, EventHeaders.Attempts) ?? EventHeaders.Long(headers, EventHeaders.DeliveryCount) ?? Shared.Messaging.Topology.DeliveryLimit);
        if (!await deadLetters.AddAsync(envelope, delivery.Body, reason, attempts, cancellationToken))
        {
            // Its worker or canvas was deleted (and perhaps created again) since: the dead letter went with it.
            logger.LogInformation("Dropped the dead letter of event {EventId} of {Canvas}/{Worker}: its worker is deleted", envelope.Id, envelope.Canvas, envelope.Worker);
            return;
        }
        statuses.Record(EventStatusUpdate.DeadLettered(envelope, attempts, reason));
        Shared.Telemetry.WorkqDiagnostics.DeadLettered.Add(1, Shared.Telemetry.WorkqDiagnostics.Tags(envelope.Canvas, envelope.Worker));
        logger.LogWarning("Event {EventId} of {Canvas}/{Worker} dead-lettered: {Reason}", envelope.Id, envelope.Canvas, envelope.Worker, reason);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (channel is { IsOpen: true }) await channel.CloseAsync(cancellationToken);
    }
}
