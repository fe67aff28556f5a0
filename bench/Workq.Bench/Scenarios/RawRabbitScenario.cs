using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Workq.Shared.Configuration;
using Workq.Shared.Messaging;

namespace Workq.Bench.Scenarios;

/// <summary>
/// The limit: plain RabbitMQ.Client on a queue declared by Workq's own <see cref="Topology"/> (same
/// quorum arguments, same exchange and binding), persistent messages, publisher confirms pipelined on
/// four channels as Workq's publisher does, and a consumer acking each message, all at once.
/// </summary>
public static class RawRabbitScenario
{
    private const string Canvas = "bench-raw";
    private const string Worker = "raw";
    private const int Channels = 4;
    private const int WindowPerChannel = 1_000;

    public static async Task<Throughput> RunAsync(
        string amqpUrl,
        int messages,
        int prefetch,
        byte[] body,
        CancellationToken cancellationToken)
    {
        var (broker, topology) = await DeclareAsync(amqpUrl, Canvas, cancellationToken);
        await using var _ = broker;

        var factory = new ConnectionFactory { Uri = Nodes(amqpUrl).First };
        await using var consuming = await factory.CreateConnectionAsync(cancellationToken);
        await using var publishing = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await consuming.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.BasicQosAsync(0, (ushort)prefetch, global: false, cancellationToken);

        var received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            if (Interlocked.Increment(ref received) == messages) done.TrySetResult();
        };
        await channel.BasicConsumeAsync(
            Topology.WorkerQueue(Canvas, Worker),
            autoAck: false,
            consumer,
            cancellationToken);

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Channels).Select(c =>
            PublishAsync(
                publishing,
                messages / Channels + (c < messages % Channels ? 1 : 0),
                body,
                cancellationToken)));
        var published = clock.Elapsed;
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken);
        var elapsed = clock.Elapsed;

        await topology.DeleteCanvasAsync(Canvas, [(Worker, 0, false)], cancellationToken);
        return new Throughput(messages, elapsed.TotalSeconds, published.TotalSeconds);
    }

    private static async Task PublishAsync(
        IConnection connection,
        int count,
        byte[] body,
        CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(
                publisherConfirmationsEnabled: true,
                publisherConfirmationTrackingEnabled: true), cancellationToken);
        var properties = new BasicProperties
        {
            DeliveryMode = DeliveryModes.Persistent,
            ContentType = "application/json"
        };
        var exchange = Topology.CanvasExchange(Canvas);
        await Pipeline.RunAsync(count, WindowPerChannel,
            _ => channel.BasicPublishAsync(exchange, Worker, mandatory: false, properties, body, cancellationToken)
                .AsTask(), cancellationToken);
    }

    /// <summary>
    /// The floor under scenario 5: the same broker, queue and rate with nothing in between. Each message
    /// carries its publish time in its first 8 bytes; the consumer notes how long it waited.
    /// </summary>
    public static async Task<FloorResult> QueueWaitAsync(
        string amqpUrl,
        double rate,
        int seconds,
        int prefetch,
        byte[] body,
        string seriesFile,
        CancellationToken cancellationToken)
    {
        var waits = await PaceAsync(amqpUrl, "bench-raw-wait", rate, TimeSpan.FromSeconds(seconds), prefetch, body,
            cancellationToken);
        var timeline = WaitTimeline.Of(waits, 50, seriesFile);
        Console.Error.WriteLine($"[bench] raw queue wait at {rate:F0}/s: {timeline.SlowEvents} messages past 50 " +
            $"ms, in {timeline.SlowSteps} of {timeline.Steps} 100 ms steps; slowest steps {timeline.Worst}");
        return new FloorResult(Latencies.Of(waits.Select(w => w.Milliseconds)), timeline);
    }

    /// <summary>
    /// Publishes to a queue of its own at <paramref name="rate"/> for <paramref name="duration"/>, consumes, and
    /// returns each message's wait with its publish time (Unix milliseconds), as Workq's handlers report theirs.
    /// </summary>
    private static async Task<List<QueueWait>> PaceAsync(
        string amqpUrl,
        string canvas,
        double rate,
        TimeSpan duration,
        int prefetch,
        byte[] body,
        CancellationToken cancellationToken)
    {
        var (broker, topology) = await DeclareAsync(amqpUrl, canvas, cancellationToken);
        await using var _ = broker;

        var factory = new ConnectionFactory { Uri = Nodes(amqpUrl).First };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var consuming = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await consuming.BasicQosAsync(0, (ushort)prefetch, global: false, cancellationToken);
        var waits = new List<QueueWait>();
        var consumer = new AsyncEventingBasicConsumer(consuming);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var waited = Stopwatch.GetElapsedTime(BinaryPrimitives.ReadInt64LittleEndian(delivery.Body.Span))
                .TotalMilliseconds;
            var publishedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (long)waited;
            lock (waits) waits.Add(new QueueWait(waited, publishedAt));
            await consuming.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await consuming.BasicConsumeAsync(
            Topology.WorkerQueue(canvas, Worker),
            autoAck: false,
            consumer,
            cancellationToken);

        await using var publishing = await connection.CreateChannelAsync(
            new CreateChannelOptions(
                publisherConfirmationsEnabled: true,
                publisherConfirmationTrackingEnabled: true), cancellationToken);
        var properties = new BasicProperties
        {
            DeliveryMode = DeliveryModes.Persistent,
            ContentType = "application/json"
        };
        var exchange = Topology.CanvasExchange(canvas);
        var pending = new List<Task>();
        long sent = 0;
        var clock = Stopwatch.StartNew();
        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(5)))
        {
            while (clock.Elapsed < duration && await timer.WaitForNextTickAsync(cancellationToken))
            {
                for (var due = (long)(rate * clock.Elapsed.TotalSeconds) - sent; due > 0; due--, sent++)
                {
                    var message = body.ToArray();
                    BinaryPrimitives.WriteInt64LittleEndian(message, Stopwatch.GetTimestamp());
                    pending.Add(publishing.BasicPublishAsync(
                        exchange,
                        Worker,
                        mandatory: false,
                        properties,
                        message,
                        cancellationToken).AsTask());
                }
            }
        }
        await Task.WhenAll(pending);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            lock (waits) if (waits.Count >= sent) break;
            await Task.Delay(20, cancellationToken);
        }
        await topology.DeleteCanvasAsync(canvas, [(Worker, 0, false)], cancellationToken);
        lock (waits) return [.. waits];
    }

    /// <summary>
    /// The broker's nodes as Workq parses them: its Topology takes them all, the raw connections the first (a baseline
    /// needs no failover).
    /// </summary>
    private static BrokerNodes Nodes(string amqpUrl)
        => BrokerNodes.Parse(amqpUrl, "WORKQ_BENCH_RABBITMQ_URL", "amqp", "amqps");

    /// <summary>
    /// A worker queue declared by Workq's own <see cref="Topology"/>: the same arguments, exchange and binding as the
    /// product's.
    /// </summary>
    private static async Task<(BrokerConnection Broker, Topology Topology)> DeclareAsync(
        string amqpUrl,
        string canvas,
        CancellationToken cancellationToken)
    {
        var broker = new BrokerConnection(
            new BrokerOptions { Amqp = Nodes(amqpUrl) },
            NullLogger<BrokerConnection>.Instance);
        var topology = new Topology(broker, new EmitLimits(), NullLogger<Topology>.Instance);
        try
        {
            await topology.DeclareSharedAsync(cancellationToken);
            await topology.DeclareCanvasAsync(canvas, cancellationToken);
            await topology.DeclareWorkerAsync(canvas, Worker, cancellationToken);
            return (broker, topology);
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }
    }
}
