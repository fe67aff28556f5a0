using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Workq.Shared.Configuration;

namespace Workq.Shared.ControlPlane;

/// <summary>
/// The control plane on MassTransit: control publishes typed state-change events, and every instance
/// of every service hears them on a queue of its own (a temporary, auto-deleted endpoint), so all
/// instances converge within milliseconds. Events carry only names; each instance re-reads the
/// registry, which stays the source of truth.
/// </summary>
public static class ControlPlaneSetup
{
    public static IServiceCollection AddControlPlane(this IServiceCollection services, WorkqOptions options, Action<IBusRegistrationConfigurator>? addConsumers = null)
    {
        services.AddMassTransit(bus =>
        {
            addConsumers?.Invoke(bus);
            // Every service publishes keyed events (emits, handler emits, the pump, redrives): each forgets a changed worker's lanes.
            bus.AddConsumer<Messaging.ForgetLanesOnWorkerChanged>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(options.RabbitMq.First, host =>
                {
                    // As the data plane's connection (BrokerConnection): a silent node is given up in seconds. With a cluster,
                    // MassTransit's own failover moves its connection to another node when its node goes.
                    host.Heartbeat(TimeSpan.FromSeconds(5));
                    host.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
                    if (options.RabbitMq.Nodes.Count > 1)
                        host.UseCluster(cluster => { foreach (var node in options.RabbitMq.Nodes) cluster.Node(node.Authority); });
                });
                rabbit.ReceiveEndpoint(new TemporaryEndpointDefinition("workq-control"), endpoint =>
                {
                    // One at a time, in publish order: "cancel then resume" or "deploy then pause" must not be applied backwards.
                    endpoint.ConcurrentMessageLimit = 1;
                    endpoint.ConfigureConsumers(context);
                });
            });
        });
        return services;
    }
}
