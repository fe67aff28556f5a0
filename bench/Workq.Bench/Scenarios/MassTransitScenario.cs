using MassTransit;
using Workq.Shared.Configuration;

namespace Workq.Bench.Scenarios;

/// <summary>
/// MassTransit 8.4 on the same broker: Publish with publisher confirms into a quorum receive endpoint
/// (declared by MassTransit as quorum, see PACKAGES.md), a handler that does nothing, its automatic ack.
/// </summary>
public static class MassTransitScenario
{
    private const int Window = 1_000;

    public static async Task<Throughput> RunAsync(
        string amqpUrl,
        int messages,
        int prefetch,
        byte[] payload,
        CancellationToken cancellationToken)
    {
        var order = JsonSerializer.Deserialize<BenchOrder>(payload, JsonSerializerOptions.Web)!;
        var received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRabbitMq(bus =>
        {
            // The first node of a cluster's list: MassTransit's Host takes one URI, and a baseline needs no failover.
            bus.Host(
                BrokerNodes.Parse(amqpUrl, "WORKQ_BENCH_RABBITMQ_URL", "amqp", "amqps").First,
                host => host.PublisherConfirmation = true);
            bus.ReceiveEndpoint("bench-masstransit", endpoint =>
            {
                endpoint.SetQuorumQueue();
                endpoint.PrefetchCount = prefetch;
                endpoint.Handler<BenchOrder>(_ =>
                {
                    if (Interlocked.Increment(ref received) == messages) done.TrySetResult();
                    return Task.CompletedTask;
                });
            });
        });
        await bus.StartAsync(cancellationToken);
        try
        {
            var clock = Stopwatch.StartNew();
            await Pipeline.RunAsync(messages, Window, _ => bus.Publish(order, cancellationToken), cancellationToken);
            var published = clock.Elapsed;
            await done.Task.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken);
            return new Throughput(messages, clock.Elapsed.TotalSeconds, published.TotalSeconds);
        }
        finally
        {
            await bus.StopAsync(CancellationToken.None);
        }
    }
}
