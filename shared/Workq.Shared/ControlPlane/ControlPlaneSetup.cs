using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Workq.Shared.Configuration;

namespace Workq.Shared.ControlPlane;

/// <summary>
/// The control plane on MassTransit: control publishes typed state-change events, and every instance
/// of every service hears them on a queue of its own (a temporary, auto-deleted endpoint), so all
/// instances converge within milliseconds. Events carry only names; each instance re-reads the
/// registry, which stays the source of truth. A consumer that throws is retried, for some twelve minutes (with backoff)
/// while the database or broker is away and twice more when the message is to blame; a message that still fails, or
/// cannot be read at all, goes to the quarantine (<see cref="ControlPlaneQuarantine"/>) and never loops.
/// </summary>
public static class ControlPlaneSetup
{
    /// <summary>
    /// Tries of a consumer through an outage, backing off to 30 s: about twelve minutes, after which the message is
    /// quarantined (and redriven once the outage is over) rather than holding up the endpoint's later messages for
    /// good.
    /// </summary>
    private const int OutageRetries = 30;

    public static IServiceCollection AddControlPlane(
        this IServiceCollection services,
        BrokerOptions options,
        Action<IBusRegistrationConfigurator>? addConsumers = null)
    {
        services.AddSingleton<ControlPlaneQuarantine>();
        services.AddMassTransit(bus =>
        {
            addConsumers?.Invoke(bus);
            // Every service publishes keyed events (emits, handler emits, the pump, redrives): each forgets a changed
            // worker's lanes.
            bus.AddConsumer<Messaging.ForgetQueuesOnWorkerChanged>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(options.Amqp.First, host =>
                {
                    // As the data plane's connection (BrokerConnection): a silent node is given up in seconds. With a
                    // cluster, MassTransit's own failover moves its connection to another node when its node goes.
                    host.Heartbeat(TimeSpan.FromSeconds(5));
                    host.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
                    if (options.Amqp.Nodes.Count > 1)
                        host.UseCluster(
                            cluster => { foreach (var node in options.Amqp.Nodes) cluster.Node(node.Authority); });
                });
                rabbit.ReceiveEndpoint(new TemporaryEndpointDefinition("workq-control"), endpoint =>
                {
                    // One at a time, in publish order: "cancel then resume" or "deploy then pause" must not be applied
                    // backwards.
                    endpoint.ConcurrentMessageLimit = 1;
                    endpoint.UseMessageRetry(retry =>
                    {
                        retry.Handle<Exception>(Poison.Failures.IsTransient);
                        retry.Exponential(
                            OutageRetries,
                            Poison.PoisonGuard.FirstOutageBackoff,
                            Poison.PoisonGuard.MaxOutageBackoff,
                            Poison.PoisonGuard.FirstOutageBackoff);
                    });
                    endpoint.UseMessageRetry(
                        retry => retry.Intervals(Poison.PoisonGuard.Backoff(1), Poison.PoisonGuard.Backoff(2)));
                    var quarantine = context.GetRequiredService<ControlPlaneQuarantine>();
                    endpoint.ConfigureError(error => error.UseFilter<ExceptionReceiveContext>(quarantine));
                    endpoint.ConfigureDeadLetter(skipped => skipped.UseFilter<ReceiveContext>(quarantine));
                    endpoint.ConfigureConsumers(context);
                });
            });
        });
        return services;
    }
}
