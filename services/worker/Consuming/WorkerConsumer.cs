using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Worker.Instance;
using Workq.Worker.Recording;
using Workq.Worker.Runs;
using Workq.Worker.Settling;

namespace Workq.Worker.Consuming;

/// <summary>
/// Consumes one worker's queue on a channel of its own whose prefetch is the worker's concurrency,
/// and acks each event after its handler finished (in batches: <see cref="DeliverySettler"/>). Stopping cancels the
/// consumer and lets the events in flight finish, so pausing or changing concurrency never runs an event twice. A
/// rate-limited worker's deliveries first wait for a token (<see cref="RateGate"/>), unstarted. A worker with ordering
/// lanes is also consumed on its lanes (WorkerConsumer.Lanes.cs), and one with priority queues on its high and low
/// queues; then all its runs share its concurrency, through <see cref="PrioritySlots"/>. It consumes for one
/// incarnation of the worker and its canvas (<paramref name="incarnation"/>): a delivery of another (deleted) one is
/// acked unrun, and what it publishes and writes carries this one.
/// </summary>
public sealed partial class WorkerConsumer(
    string canvas,
    string worker,
    (long Canvas, long Worker) incarnation,
    int concurrency,
    int lanes,
    bool priorities,
    HandlerVersion handler,
    RetryPolicy? retry,
    ConsumerServices services,
    ILogger logger) : IConsumerLoad
{
    private static readonly TimeSpan UnrunRequeueTimeout = TimeSpan.FromSeconds(5);
    // The broker closes a channel with a delivery unacked for 30 minutes (its consumer_timeout), and every delivery of
    // the channel goes back, the running ones too: one that waited this long for a slot goes back first, as a copy.
    private static readonly TimeSpan MaxSlotWait = TimeSpan.FromMinutes(15);
    private readonly int prefetch = Prefetch(concurrency, priorities);
    // Shared by every run of a worker with lanes or priority queues; other workers' runs take no slot.
    private readonly PrioritySlots? slots = lanes > 0 || priorities
        ? new PrioritySlots(concurrency, services.Priorities.Aging, services.Time,
            priorities ? Prefetch(concurrency, priorities) : 0,
            priorities ? queue => ReadyAsync(services.Queues, canvas, worker, queue) : null)
        : null;
    private readonly List<(AsyncEventingBasicConsumer Consumer, string Tag)> priorityConsumers = [];
    private readonly CancellationTokenSource stopping = new();
    // Cancelled with the consumer: deliveries still waiting for a rate-limit token stop waiting and go back to the
    // queue unrun.
    private readonly CancellationTokenSource holding = new();
    private readonly RateGate rateGate = new(canvas, worker, services.RateBuckets, services.Time, logger);
    private IChannel? channel;
    private DeliverySettler? settler;
    private string? consumerTag;
    private IDisposable? inFlightGauge;

    public string Canvas => canvas;
    public string Worker => worker;
    public (long Canvas, long Worker) Incarnation => incarnation;
    public int Concurrency => concurrency;
    public int Lanes => lanes;
    public bool Priorities => priorities;
    /// <summary>Deliveries handed to the handler and not finished yet.</summary>
    public int InFlight => (settler?.Running ?? 0) + keyedRunning;
    /// <summary>True once cancelled: nothing new starts, what runs finishes.</summary>
    public bool IsCancelled { get; private set; }
    public HandlerVersion Handler { get; set; } = handler;
    public RetryPolicy? Retry { get; set; } = retry;

    /// <summary>Applied live: deliveries already waiting go by the new limit.</summary>
    public RateLimit? RateLimit
    {
        get => rateGate.Limit;
        set => rateGate.Limit = value;
    }

    /// <summary>
    /// False once the broker cancelled the consumer (its queue was deleted, say). While the connection is down or
    /// recovering, automatic recovery brings it back (<see cref="BrokerConnection.IsRecovering"/>): replaced then, it
    /// would be consumed twice.
    /// </summary>
    public bool IsHealthy
        => (consumer is { IsRunning: true } && LanesHealthy && priorityConsumers.TrueForAll(c => c.Consumer.IsRunning))
            || !services.Broker.IsOpen || services.Broker.IsRecovering;

    private AsyncEventingBasicConsumer? consumer;

    // With priority queues, each queue's prefetch is twice the concurrency and 8 more: when a slot comes free, the next
    // high event is already here, not on its way after the last one's ack, mostly; the slots wait for one on its way.
    private static int Prefetch(int concurrency, bool priorities) => priorities ? 2 * concurrency + 8 : concurrency;

    /// <summary>The events ready in the worker's queue of that priority; null when it is gone.</summary>
    private static async Task<long?> ReadyAsync(QueueProbe queues, string canvas, string worker, Priority priority)
    {
        var queue = priority == Priority.Normal
            ? Topology.WorkerQueue(canvas, worker)
            : Topology.PriorityQueue(canvas, worker, priority);
        return (await queues.ReadAsync(queue, CancellationToken.None))?.Queued;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = await services.Broker.GetAsync(cancellationToken);
        // The worker's queue, and its high and low queues if it has them, each with a prefetch of its own.
        var unacked = prefetch * (priorities ? 1 + Workq.Shared.Messaging.Priorities.Queued.Length : 1);
        channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false,
            consumerDispatchConcurrency: (ushort)unacked), cancellationToken);
        try
        {
            await channel.BasicQosAsync(0, (ushort)prefetch, global: false, cancellationToken);
            settler = new DeliverySettler(channel, unacked);
            consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += OnReceivedAsync;
            consumerTag = await channel.BasicConsumeAsync(
                Topology.WorkerQueue(canvas, worker),
                autoAck: false,
                consumer,
                cancellationToken);
            if (priorities) await StartPriorityQueuesAsync(channel, cancellationToken);
            if (lanes > 0) await StartLanesAsync(connection, cancellationToken);
        }
        catch
        {
            // A consume the client gave up on (a queue whose leader is unreachable answers late) may still be
            // registered by the broker later: on this channel, it would hold its prefetch of events unacked, with
            // nobody to run them. Closing the channel cancels any such consumer and puts its events back in the queue.
            await channel.AbortAsync(CancellationToken.None);
            channel.Dispose();
            channel = null;
            await AbortLanesAsync();
            throw;
        }
        inFlightGauge = Workq.Shared.Telemetry.WorkqDiagnostics.TrackInFlight(canvas, worker, () => InFlight);
        services.Loads.Add(this);
        logger.LogInformation(
            "Consuming {Canvas}/{Worker} v{Version} with concurrency {Concurrency}, {Lanes} ordering lanes and " +
                "priority queues {Priorities}",
            canvas,
            worker,
            Handler.Version,
            concurrency,
            lanes,
            priorities);
    }

    private async Task StartPriorityQueuesAsync(IChannel on, CancellationToken cancellationToken)
    {
        foreach (var priority in Workq.Shared.Messaging.Priorities.Queued)
        {
            var priorityConsumer = new AsyncEventingBasicConsumer(on);
            priorityConsumer.ReceivedAsync += (_, delivery) => ReceiveInSlotAsync(delivery, priority);
            var tag = await on.BasicConsumeAsync(
                Topology.PriorityQueue(canvas, worker, priority),
                autoAck: false,
                priorityConsumer,
                cancellationToken);
            priorityConsumers.Add((priorityConsumer, tag));
        }
    }

    private Task OnReceivedAsync(object sender, BasicDeliverEventArgs delivery)
        => slots is null ? ReceiveAsync(delivery) : ReceiveInSlotAsync(delivery, Priority.Normal);

    /// <summary>
    /// A worker with lanes or priority queues: an unkeyed run takes one of the instance's slots, which its keyed runs
    /// share, by its priority. One that waited too long, or whose consumer stopped meanwhile, goes back unrun.
    /// <paramref name="queue"/> is the priority of the queue it came from.
    /// </summary>
    private async Task ReceiveInSlotAsync(BasicDeliverEventArgs delivery, Priority queue)
    {
        slots!.Delivered(queue);
        var headers = delivery.BasicProperties.Headers;
        var priority = Workq.Shared.Messaging.Priorities.Parse(EventHeaders.String(headers, EventHeaders.Priority))
            ?? Priority.Normal;
        var enqueuedAt = EventHeaders.Long(headers, EventHeaders.EnqueuedAt) is { } micros
            ? DateTimeOffset.UnixEpoch.AddTicks(micros * 10)
            : services.Time.GetUtcNow();
        try
        {
            using var waited = CancellationTokenSource.CreateLinkedTokenSource(holding.Token);
            waited.CancelAfter(MaxSlotWait);
            await slots.WaitAsync(priority, enqueuedAt, waited.Token);
        }
        catch (OperationCanceledException)
        {
            try
            {
                await RequeueUnrunAsync(delivery);
            }
            finally
            {
                slots.Settled(queue);
            }
            return;
        }
        try
        {
            await ReceiveAsync(delivery);
        }
        finally
        {
            // Settled first: the slot it frees then waits for the refill the broker owes, if it owes one.
            slots.Settled(queue);
            slots.Release();
        }
    }

    private async Task ReceiveAsync(BasicDeliverEventArgs delivery)
    {
        if (Stale(delivery))
        {
            settler!.Started();
            await settler.FinishAsync(delivery.DeliveryTag, requeue: false);
            return;
        }
        if (!await TakeRateTokenAsync())
        {
            await RequeueUnrunAsync(delivery);
            return;
        }
        settler!.Started();
        var requeue = true;
        EventEnvelope? read = null;
        var attempt = 0;
        try
        {
            if (!Guid.TryParse(delivery.BasicProperties.MessageId, out _))
            {
                // Not an event (no one but a broker admin could have put it here): not run, and not given back to come
                // round again.
                await services.Retries.DeadLetterUnreadableAsync(canvas, worker, delivery.BasicProperties,
                    "not an event: its message id is not an event id (a GUID); it was not run", delivery.Body, stopping
                        .Token);
                requeue = false;
                logger.LogWarning(
                    "A delivery on {Canvas}/{Worker} without an event id was passed to the dead letters unrun",
                    canvas,
                    worker);
                return;
            }
            var envelope = Read(delivery);
            read = envelope;
            attempt = EventHeaders.AttemptOf(delivery.BasicProperties);
            var current = Handler;
            if (services.Cancelled.IsCancelled(canvas, worker, envelope.Id))
            {
                services.Runner.RecordCancelled(current.Version, envelope, attempt, delivery.Body);
                var cancelled = RunStatus.Cancelled(envelope, attempt);
                await services.BatchFinishes.RecordAsync(envelope, cancelled);
                Note(cancelled);
                requeue = false;
                services.Cancelled.Forget(canvas, worker, envelope.Id);
                return;
            }
            if (await SupersededAsync(envelope, attempt))
            {
                requeue = false;
                return;
            }
            // The body is only valid until this callback returns, and everything below completes before it does.
            var suspect = EventHeaders.String(delivery.BasicProperties.Headers, EventHeaders.CrashSuspect) is not null;
            var startedAt = DateTimeOffset.UtcNow;
            Note(RunStatus.Running(envelope, attempt, startedAt));
            var result = await services.Runner
                .RunAsync(current, envelope, attempt, suspect, delivery.Body, stopping.Token);
            var retry = Retry;
            var settlement = Settlement.Decide(result, new DeliveryState(attempt, retry, InLane: false, suspect));
            if (settlement.Verdict == SettleVerdict.GiveBack)
            {
                Note(RunStatus.Settled(envelope, attempt, startedAt, result, retry));
                return;
            }
            var settled = RunStatus.Settled(envelope, attempt, startedAt, result, retry);
            await SuspendAsync(envelope, result, delivery.Body);
            await services.BatchFinishes.RecordAsync(envelope, settled);
            await services.Retries.PublishAsync(settlement, envelope, delivery.Body, stopping.Token);
            requeue = false;
            Note(settled);
        }
        catch (Exception e)
        {
            if (read is { } given) Note(RunStatus.Again(given, attempt, null));
            // Given back: the broker redelivers it (and dead-letters it after the delivery limit).
            logger.LogWarning(
                e,
                "Event delivery on {Canvas}/{Worker} failed before it completed; it goes back to the queue",
                canvas,
                worker);
        }
        finally
        {
            await settler.FinishAsync(delivery.DeliveryTag, requeue);
        }
    }

    /// <summary>
    /// A redelivery (only those: a query each) of a run that suspended before its ack was lost: stale, acked unrun,
    /// since the event goes on from its stored resume (run twice at once, a step not yet kept would run twice).
    /// </summary>
    private async Task<bool> SupersededAsync(EventEnvelope envelope, int attempt)
    {
        if (attempt == 1 || !await services.Steps.SupersededAsync(envelope, stopping.Token)) return false;
        logger.LogInformation("Event {EventId} of {Canvas}/{Worker} was redelivered after it suspended; it goes on " +
            "from its resume", envelope.Id, canvas, worker);
        return true;
    }

    /// <summary>
    /// A run that ended in a Sleep or a WaitFor: its resume is stored before its delivery is acked (a failure here
    /// gives the delivery back, and the event runs again, its steps replayed).
    /// </summary>
    private async Task SuspendAsync(EventEnvelope envelope, RunResult result, ReadOnlyMemory<byte> body)
    {
        if (result.Suspension is not { } suspension) return;
        var runAt = await services.Steps.SuspendAsync(envelope, body, suspension, stopping.Token);
        logger.LogDebug("Event {EventId} of {Canvas}/{Worker} is {Status} until {RunAt}", envelope.Id, canvas, worker,
            suspension.Status, runAt);
    }

    /// <summary>
    /// The delivery's event, as this incarnation's: what it publishes (retries, dead letters, emits) and writes carries
    /// it.
    /// </summary>
    private EventEnvelope Read(BasicDeliverEventArgs delivery) =>
        EventHeaders.Read(delivery.BasicProperties, canvas, worker) with
        {
            CanvasIncarnation = incarnation
            .Canvas,
            WorkerIncarnation = incarnation.Worker
        };

    /// <summary>
    /// An event of another incarnation of the canvas or worker, which was deleted (a retry waiting in a delay queue, an
    /// emit of the old canvas published as it was deleted): it belongs to nobody now, and is dropped unrun, with a log
    /// line and a count.
    /// </summary>
    private bool Stale(BasicDeliverEventArgs delivery)
    {
        var headers = delivery.BasicProperties.Headers;
        if (headers is null) return false;
        var envelope = new EventEnvelope(Guid.Empty, canvas, worker, default, 0, null, null,
            EventHeaders.Long(headers, EventHeaders.CanvasIncarnation) ?? 0, EventHeaders.Long(
                headers,
                EventHeaders.WorkerIncarnation) ?? 0);
        if (envelope.BelongsTo(incarnation.Canvas, incarnation.Worker)) return false;
        Workq.Shared.Telemetry.WorkqDiagnostics.Dropped
            .Add(1, Workq.Shared.Telemetry.WorkqDiagnostics.Tags(canvas, worker));
        logger.LogInformation("Dropped event {EventId} of {Canvas}/{Worker}: it belongs to a deleted incarnation " +
            "({CanvasIncarnation}/{WorkerIncarnation}, now {Current})",
            delivery.BasicProperties.MessageId, canvas, worker, envelope.CanvasIncarnation, envelope
                .WorkerIncarnation, incarnation);
        return true;
    }

    /// <summary>
    /// Set once the worker (or its canvas) is deleted: its runs are stopped, and what they would still say of their
    /// events' status (queued again) is not said.
    /// </summary>
    public bool Deleted { get; set; }

    private void Note(EventStatusUpdate update)
    {
        if (!Deleted) services.Statuses.Record(update);
    }

    /// <summary>False when the consumer stopped before a token came.</summary>
    private async Task<bool> TakeRateTokenAsync()
    {
        try
        {
            await rateGate.WaitAsync(holding.Token);
            return true;
        }
        catch (OperationCanceledException) when (holding.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// A delivery that waited for a token when its consumer stopped goes back unrun, as a copy with its attempt
    /// unchanged (then acked): the broker counts a given-back delivery as an attempt. If the copy cannot be published,
    /// the delivery is given back after all (nacked), and counted.
    /// </summary>
    private async Task RequeueUnrunAsync(BasicDeliverEventArgs delivery)
    {
        settler!.Started();
        var requeue = true;
        try
        {
            using var timeout = new CancellationTokenSource(UnrunRequeueTimeout);
            var headers = delivery.BasicProperties.Headers;
            var suspect = headers is not null && headers.TryGetValue(EventHeaders.CrashSuspect, out var mark)
                ? mark as byte[]
                : null;
            await services.Retries.RequeueUnrunAsync(Read(delivery), EventHeaders.AttemptOf(delivery.BasicProperties),
                suspect, delivery.Body, timeout.Token);
            requeue = false;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "An event of {Canvas}/{Worker} waiting for a rate-limit token could not be put back " +
                "as a copy; it goes back to the queue", canvas, worker);
        }
        finally
        {
            await settler.FinishAsync(delivery.DeliveryTag, requeue);
        }
    }

    /// <summary>Stops taking new events: once this returns, nothing new starts on this consumer.</summary>
    public async Task CancelAsync()
    {
        IsCancelled = true;
        await holding.CancelAsync();
        if (channel is not { IsOpen: true } open || consumerTag is null) return;
        try
        {
            await open.BasicCancelAsync(consumerTag);
            foreach (var (_, tag) in priorityConsumers) await open.BasicCancelAsync(tag);
        }
        catch (Exception e) when (BrokerErrors.IsChannelGone(e))
        {
            // Closed under us: nothing more will be delivered on it either.
        }
    }

    /// <summary>
    /// Lets the events in flight finish (up to <paramref name="drainFor"/>), then closes the channel.
    /// </summary>
    public async Task DrainAndCloseAsync(TimeSpan drainFor, bool shuttingDown)
    {
        await holding.CancelAsync();
        if (shuttingDown) await stopping.CancelAsync();
        if (channel is not { } open) return;
        try
        {
            var deadline = DateTimeOffset.UtcNow + drainFor;
            while ((settler is { Running: > 0 } || chains.Pending > 0) && DateTimeOffset.UtcNow < deadline) await Task
                .Delay(10);
            // What finished last may still wait for its ack: sent before the channel closes.
            if (settler is not null) await settler.FlushAsync();
            if (open.IsOpen) await open.CloseAsync();
        }
        catch (Exception e) when (BrokerErrors.IsChannelGone(e))
        {
            // Closed under us: its unacked events go back to the queue, which is what stopping wants.
        }
        finally
        {
            // Disposed even when closed: a recovering channel would otherwise come back with a consumer nobody owns.
            open.Dispose();
            await CloseLanesAsync();
            inFlightGauge?.Dispose();
            services.Loads.Remove(this);
            logger.LogInformation("Stopped consuming {Canvas}/{Worker}", canvas, worker);
        }
    }
}
