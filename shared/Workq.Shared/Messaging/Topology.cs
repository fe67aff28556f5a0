using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Workq.Shared.Configuration;

namespace Workq.Shared.Messaging;

/// <summary>
/// The RabbitMQ topology of DESIGN.md: a topic exchange per canvas (routing key = worker name) whose
/// alternate exchange catches events for workers that do not exist, and a quorum queue per worker
/// with a delivery limit and at-least-once dead-lettering, so a poison event ends in the dead letters
/// instead of looping or vanishing, and a length limit past which the broker refuses publishes (never
/// drops them). Every declaration is idempotent.
/// </summary>
public sealed class Topology(BrokerConnection broker, EmitLimits options, ILogger<Topology> logger)
{
    public const string UnhandledExchange = "workq.unhandled";
    public const string UnhandledQueue = "workq.unhandled";
    public const string DeadLetterExchange = "workq.dead-letters";
    public const string DeadLetterQueue = "workq.dead-letters";
    /// <summary>
    /// Direct exchange that takes retried events back to their worker's queue (routing key = queue name).
    /// </summary>
    public const string RetryExchange = "workq.retry";
    public const int DeliveryLimit = 5;

    public static string CanvasExchange(string canvas) => $"workq.canvas.{canvas}";
    public static string WorkerQueue(string canvas, string worker) => $"workq.worker.{canvas}.{worker}";
    public static string DelayQueue(int seconds) => $"workq.delay.{seconds}s";
    public static string LaneQueue(string canvas, string worker, int lane)
        => $"{WorkerQueue(canvas, worker)}.lane{lane}";

    public static string PriorityQueue(string canvas, string worker, Handlers.Messaging.Priority priority)
        => $"{WorkerQueue(canvas, worker)}.{Priorities.Name(priority)}";

    /// <summary>
    /// The worker's queue, then its ordering lanes and then its high and low queues, if it has them: what counts,
    /// purges and deletes cover.
    /// </summary>
    public static IEnumerable<string> WorkerQueues(string canvas, string worker, int lanes, bool priorities) =>
        Enumerable.Range(0, lanes).Select(lane => LaneQueue(canvas, worker, lane))
            .Prepend(WorkerQueue(canvas, worker))
            .Concat(priorities ? Priorities.Queued.Select(p => PriorityQueue(canvas, worker, p)) : []);

    private static readonly Dictionary<string, object?> QuorumArguments = new() { ["x-queue-type"] = "quorum" };

    private readonly Dictionary<string, object?> workerQueueArguments = new()
    {
        ["x-queue-type"] = "quorum",
        ["x-delivery-limit"] = DeliveryLimit,
        ["x-dead-letter-exchange"] = DeadLetterExchange,
        ["x-dead-letter-strategy"] = "at-least-once",
        ["x-max-length"] = options.MaxQueuedPerWorker,
        ["x-overflow"] = "reject-publish",
    };

    public Task DeclareSharedAsync(CancellationToken cancellationToken) => WithChannelAsync(async channel =>
    {
        await channel.ExchangeDeclareAsync(
            UnhandledExchange,
            ExchangeType.Fanout,
            durable: true,
            cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(
            UnhandledQueue,
            durable: true,
            exclusive: false,
            autoDelete: false,
            QuorumArguments,
            cancellationToken: cancellationToken);
        await channel.QueueBindAsync(UnhandledQueue, UnhandledExchange, "", cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(
            DeadLetterExchange,
            ExchangeType.Fanout,
            durable: true,
            cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(
            DeadLetterQueue,
            durable: true,
            exclusive: false,
            autoDelete: false,
            QuorumArguments,
            cancellationToken: cancellationToken);
        await channel.QueueBindAsync(DeadLetterQueue, DeadLetterExchange, "", cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(
            RetryExchange,
            ExchangeType.Direct,
            durable: true,
            cancellationToken: cancellationToken);
    }, cancellationToken);

    /// <summary>
    /// A queue where a retried event waits out its backoff: its TTL expires it into the retry exchange,
    /// which routes it back to the worker's queue. Durable, so a waiting retry survives restarts.
    /// </summary>
    public Task DeclareDelayAsync(int seconds, CancellationToken cancellationToken) => WithChannelAsync(async channel =>
    {
        var queue = DelayQueue(seconds);
        await channel.ExchangeDeclareAsync(
            queue,
            ExchangeType.Fanout,
            durable: true,
            cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-message-ttl"] = seconds * 1000,
                ["x-dead-letter-exchange"] = RetryExchange,
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
            }, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(queue, queue, "", cancellationToken: cancellationToken);
    }, cancellationToken);

    public Task DeclareCanvasAsync(
        string canvas,
        CancellationToken cancellationToken) => WithChannelAsync(async channel =>
    {
        await channel.ExchangeDeclareAsync(CanvasExchange(canvas), ExchangeType.Topic, durable: true, autoDelete: false,
            new Dictionary<string, object?>
            {
                ["alternate-exchange"] = UnhandledExchange
            }, cancellationToken: cancellationToken);
    }, cancellationToken);

    /// <summary>
    /// Declares the worker's queue and binds it. A queue that already exists with other arguments (declared before
    /// <c>x-max-length</c>, or with another <c>WORKQ_MAX_QUEUED_PER_WORKER</c>) cannot be redeclared (406): it is kept
    /// as it is, with a warning, so an upgrade or a changed limit never breaks a deploy (docs/DESIGN.md).
    /// </summary>
    public Task DeclareWorkerAsync(string canvas, string worker, CancellationToken cancellationToken) =>
        DeclareQueueAsync(
            canvas,
            worker,
            WorkerQueue(canvas, worker),
            workerQueueArguments,
            channel => BindWorkerAsync(channel, canvas, worker, cancellationToken),
            cancellationToken);

    /// <summary>
    /// Declares and binds a queue of the worker's; one that exists with other arguments is kept (and bound) with a
    /// warning.
    /// </summary>
    private async Task DeclareQueueAsync(
        string canvas,
        string worker,
        string queue,
        Dictionary<string, object?> arguments,
        Func<IChannel, Task> bind,
        CancellationToken cancellationToken)
    {
        try
        {
            await WithChannelAsync(async channel =>
            {
                await channel.QueueDeclareAsync(
                    queue,
                    durable: true,
                    exclusive: false,
                    autoDelete: false,
                    arguments,
                    cancellationToken: cancellationToken);
                await bind(channel);
            }, cancellationToken);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
        {
            logger.LogWarning("The queue {Queue} of {Canvas}/{Worker} exists with other arguments and is kept as it " +
                "is ({Reason}); to apply WORKQ_MAX_QUEUED_PER_WORKER = {Limit}, drain and delete the queue, then " +
                    "deploy the worker again",
                queue, canvas, worker, e.ShutdownReason.ReplyText, options.MaxQueuedPerWorker);
            await WithChannelAsync(bind, cancellationToken);
        }
    }

    /// <summary>
    /// The worker's ordering lanes (docs/DESIGN.md "Ordering keys"): quorum queues like its own, with a single active
    /// consumer, so each lane is consumed by one worker instance at a time, in queue order. Bound to the canvas
    /// exchange under the lane's routing key and to the retry exchange under the queue's name.
    /// </summary>
    public async Task DeclareLanesAsync(string canvas, string worker, int lanes, CancellationToken cancellationToken)
    {
        var arguments = new Dictionary<string, object?>(workerQueueArguments) { ["x-single-active-consumer"] = true };
        for (var lane = 0; lane < lanes; lane++)
        {
            var (queue, routingKey) = (LaneQueue(canvas, worker, lane), OrderingKeys.RoutingKey(worker, lane));
            await DeclareQueueAsync(canvas, worker, queue, arguments, async channel =>
            {
                await channel.QueueBindAsync(
                    queue,
                    CanvasExchange(canvas),
                    routingKey,
                    cancellationToken: cancellationToken);
                await channel.QueueBindAsync(queue, RetryExchange, queue, cancellationToken: cancellationToken);
            }, cancellationToken);
        }
    }

    /// <summary>
    /// The worker's high and low queues (docs/DESIGN.md "Priorities"): quorum queues like its own, bound to the canvas
    /// exchange under <c>{worker}.high</c> and <c>{worker}.low</c> and to the retry exchange under their names.
    /// </summary>
    public async Task DeclarePriorityQueuesAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        foreach (var priority in Priorities.Queued)
        {
            var queue = PriorityQueue(canvas, worker, priority);
            var routingKey = Priorities.RoutingKey(worker, priority);
            await DeclareQueueAsync(canvas, worker, queue, workerQueueArguments, async channel =>
            {
                await channel.QueueBindAsync(queue, CanvasExchange(canvas), routingKey,
                    cancellationToken: cancellationToken);
                await channel.QueueBindAsync(queue, RetryExchange, queue, cancellationToken: cancellationToken);
            }, cancellationToken);
        }
    }

    public Task DeletePriorityQueuesAsync(string canvas, string worker, CancellationToken cancellationToken) =>
        WithChannelAsync(async channel =>
        {
            foreach (var priority in Priorities.Queued)
                await channel.QueueDeleteAsync(PriorityQueue(canvas, worker, priority),
                    cancellationToken: cancellationToken);
        }, cancellationToken);

    public Task DeleteLanesAsync(
        string canvas,
        string worker,
        int lanes,
        CancellationToken cancellationToken) => WithChannelAsync(async channel =>
    {
        for (
            var lane = 0;
            lane < lanes;
            lane++) await channel.QueueDeleteAsync(
                LaneQueue(canvas, worker, lane),
                cancellationToken: cancellationToken);
    }, cancellationToken);

    private static async Task BindWorkerAsync(
        IChannel channel,
        string canvas,
        string worker,
        CancellationToken cancellationToken)
    {
        var queue = WorkerQueue(canvas, worker);
        await channel.QueueBindAsync(queue, CanvasExchange(canvas), worker, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(queue, RetryExchange, queue, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Empties the worker's queue, its ordering lanes and its high and low queues of ready events; returns how many
    /// were dropped.
    /// </summary>
    public async Task<uint> PurgeWorkerAsync(
        string canvas,
        string worker,
        int lanes,
        bool priorities,
        CancellationToken cancellationToken)
    {
        uint purged = 0;
        await WithChannelAsync(async channel =>
        {
            foreach (var queue in WorkerQueues(canvas, worker, lanes, priorities))
                purged += await channel.QueuePurgeAsync(queue, cancellationToken);
        }, cancellationToken);
        return purged;
    }

    /// <summary>
    /// Deletes the worker's queue, its ordering lanes and its high and low queues; the events still in them are dropped
    /// (API.md DELETE worker).
    /// </summary>
    public Task DeleteWorkerAsync(
        string canvas,
        string worker,
        int lanes,
        bool priorities,
        CancellationToken cancellationToken) =>
        WithChannelAsync(async channel =>
        {
            foreach (var queue in WorkerQueues(canvas, worker, lanes, priorities)) await channel.QueueDeleteAsync(
                queue,
                cancellationToken: cancellationToken);
        }, cancellationToken);

    public async Task DeleteCanvasAsync(
        string canvas,
        IEnumerable<(string Worker, int Lanes, bool Priorities)> workers,
        CancellationToken cancellationToken)
    {
        foreach (var (worker, lanes, priorities) in workers)
            await DeleteWorkerAsync(canvas, worker, lanes, priorities, cancellationToken);
        await WithChannelAsync(
            channel => channel.ExchangeDeleteAsync(CanvasExchange(canvas), cancellationToken: cancellationToken),
            cancellationToken);
    }

    // A channel per operation: a failed declaration closes its channel, and must not take a shared one with it.
    private async Task WithChannelAsync(Func<IChannel, Task> action, CancellationToken cancellationToken)
    {
        var connection = await broker.GetAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await action(channel);
        if (channel.IsOpen) await channel.CloseAsync(cancellationToken);
    }
}
