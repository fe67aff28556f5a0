using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Workq.Shared.Configuration;
using Workq.Shared.Messaging;
using Workq.Shared.Poison;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.UnhandledAndDeadLetters;

/// <summary>
/// Takes events off the two shared queues that hold what no worker queue would: the unhandled
/// queue (emits to workers that do not exist) and the dead-letter queue. Each event is acked only
/// after PostgreSQL has it, so neither path can lose one. A message it cannot keep is never given back
/// to its queue to come round again: <see cref="PoisonGuard"/> holds it while PostgreSQL is away, and
/// moves it whole to the quarantine when it fails on its own (docs/DESIGN.md "Quarantine").
/// </summary>
public sealed class UnhandledAndDeadLetterConsumer(
    BrokerConnection broker,
    UnhandledStore unhandled,
    DeadLetterStore deadLetters,
    QuarantineStore quarantine,
    EventStatusRecorder statuses,
    BatchStore batches,
    EmitLimits options,
    ILogger<UnhandledAndDeadLetterConsumer> logger) : BackgroundService
{
    private readonly PoisonGuard guard = new(new OutageLog(logger, "Keeping parked and dead-lettered events"));
    private IChannel? channel;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = await broker.GetAsync(stoppingToken);
        // One at a time: parked events must keep their queue order, since they are replayed oldest first.
        channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(false, false, consumerDispatchConcurrency: 1),
            stoppingToken);
        await channel.BasicQosAsync(0, 64, global: false, stoppingToken);

        var parking = new AsyncEventingBasicConsumer(channel);
        parking.ReceivedAsync
            += (_, delivery) => HandleAsync(delivery, Topology.UnhandledQueue, ParkAsync, stoppingToken);
        await channel.BasicConsumeAsync(Topology.UnhandledQueue, autoAck: false, parking, stoppingToken);

        var dead = new AsyncEventingBasicConsumer(channel);
        dead.ReceivedAsync += (_, delivery) => HandleAsync(
            delivery,
            Topology.DeadLetterQueue,
            KeepDeadLetterAsync,
            stoppingToken);
        await channel.BasicConsumeAsync(Topology.DeadLetterQueue, autoAck: false, dead, stoppingToken);
    }

    private async Task HandleAsync(
        BasicDeliverEventArgs delivery,
        string queue,
        Func<BasicDeliverEventArgs, CancellationToken, Task> keep,
        CancellationToken stoppingToken)
    {
        try
        {
            await guard.RunAsync(
                token => keep(delivery, token),
                (failure, token) => QuarantineAsync(queue, delivery, failure, token),
                stoppingToken);
            await channel!.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: unacked, it goes back to its queue when the channel closes.
        }
    }

    private async Task ParkAsync(BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var envelope = ParkedEventCheck.Read(
            delivery.BasicProperties,
            WorkerOf(delivery),
            delivery.Body.Span,
            options.MaxEventBytes);
        await unhandled.ParkAsync(envelope, delivery.Body, cancellationToken);
        logger.LogDebug(
            "Parked event {EventId} for unknown worker {Canvas}/{Worker}",
            envelope.Id,
            envelope.Canvas,
            envelope.Worker);
    }

    private async Task KeepDeadLetterAsync(BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var headers = delivery.BasicProperties.Headers;
        var envelope = ParkedEventCheck.Read(
            delivery.BasicProperties,
            WorkerOf(delivery),
            delivery.Body.Span,
            options.MaxEventBytes);
        var reason = EventHeaders.String(headers, EventHeaders.DeadLetterReason)
            ?? EventHeaders.String(headers, "x-first-death-reason") switch
            {
                "delivery_limit" =>
                    $"delivery limit: delivered {Topology.DeliveryLimit} times without completing (a worker process " +
                        $"died or lost its connection each time)",
                { } other => other,
                null => "dead-lettered by the broker",
            };
        // The broker counts every failed delivery in x-delivery-count and gives up when it reaches the limit.
        var attempts = AttemptsOf(headers);
        // Before the dead letter is kept: a failure here brings the message back, and a second finish of the same
        // event counts once. Recorded even when its worker is gone, so its batch does not wait for it.
        await RecordInBatchAsync(envelope.Canvas, envelope.BatchId, envelope.Id, EventStatuses.DeadLettered, reason,
            cancellationToken);
        if (!await deadLetters.AddAsync(envelope, delivery.Body, reason, attempts, cancellationToken))
        {
            // Its worker or canvas was deleted (and perhaps created again) since: the dead letter went with it.
            logger.LogInformation(
                "Dropped the dead letter of event {EventId} of {Canvas}/{Worker}: its worker is deleted",
                envelope.Id,
                envelope.Canvas,
                envelope.Worker);
            return;
        }
        statuses.Record(EventStatusUpdate.DeadLettered(envelope, attempts, reason));
        Shared.Telemetry.WorkqDiagnostics.DeadLettered
            .Add(1, Shared.Telemetry.WorkqDiagnostics.Tags(envelope.Canvas, envelope.Worker));
        logger.LogWarning(
            "Event {EventId} of {Canvas}/{Worker} dead-lettered: {Reason}",
            envelope.Id,
            envelope.Canvas,
            envelope.Worker,
            reason);
    }

    /// <summary>A batch member that ended here ends in its batch (API.md "Batches").</summary>
    private Task RecordInBatchAsync(
        string canvas,
        Guid? batchId,
        Guid eventId,
        string status,
        string? error,
        CancellationToken cancellationToken) => batchId is { } batch
        ? batches.RecordFinishesAsync([new BatchFinish(canvas, batch, eventId, status, Error: error)],
            cancellationToken)
        : Task.CompletedTask;

    /// <summary>The worker an event is for: its header, or the routing key it was published with.</summary>
    private static string? WorkerOf(BasicDeliverEventArgs delivery) =>
        EventHeaders.String(delivery.BasicProperties.Headers, EventHeaders.Worker) ?? delivery.RoutingKey;

    private static int AttemptsOf(IDictionary<string, object?>? headers) =>
        (int)Math.Clamp(EventHeaders.Long(headers, EventHeaders.Attempts)
            ?? EventHeaders.Long(headers, EventHeaders.DeliveryCount)
                ?? Topology.DeliveryLimit, 1, int.MaxValue);

    /// <summary>
    /// The message, whole, to the quarantine; its event (when it names one) says so in its status. Logged once, here.
    /// </summary>
    private async Task QuarantineAsync(
        string queue,
        BasicDeliverEventArgs delivery,
        PoisonFailure failure,
        CancellationToken cancellationToken)
    {
        var entry = QuarantineEntry.Delivery(
            queue,
            queue,
            delivery.Exchange,
            delivery.RoutingKey,
            delivery.BasicProperties,
            delivery.Body,
            failure);
        var id = await quarantine.AddAsync(entry, cancellationToken);
        if (entry is { Canvas: { } canvas, Worker: { } worker, EventId: { } eventId })
        {
            await RecordInBatchAsync(canvas, EventHeaders.Id(delivery.BasicProperties.Headers, EventHeaders.Batch),
                eventId, EventStatuses.Quarantined, entry.Error, cancellationToken);
            var enqueuedAt = EventHeaders.Read(delivery.BasicProperties, canvas, worker).EnqueuedAt;
            // A dead letter's attempts are its runs'; a parked event never ran.
            var attempts = queue == Topology.DeadLetterQueue ? AttemptsOf(delivery.BasicProperties.Headers) : 1;
            statuses.Record(
                EventStatusUpdate.Quarantined(canvas, eventId, worker, attempts, enqueuedAt, id, queue, entry.Error));
        }
        logger.LogWarning(
            "A message from {Queue} ({Canvas}/{Worker}, event {EventId}) was quarantined as item {QuarantineId} " +
            "after {Attempts} attempts: {Error}",
            queue, entry.Canvas, entry.Worker, entry.EventId, id, failure.Attempts, entry.Error);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (channel is { IsOpen: true }) await channel.CloseAsync(cancellationToken);
    }
}
