using Workq.Dispatcher.Batches;
using Workq.Dispatcher.Crons;
using Workq.Dispatcher.Metrics;
using Workq.Dispatcher.Reconciling;
using Workq.Dispatcher.Scheduling;
using Workq.Dispatcher.Statuses;
using Workq.Dispatcher.UnhandledAndDeadLetters;
using Workq.Shared.ControlPlane;
using Workq.Shared.Hosting;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Dispatcher;

/// <summary>
/// What the dispatcher service is made of: the topology reconciler, parking and replays of unhandled events,
/// crons and delayed events, and the pruning and rollups of statuses and metrics.
/// </summary>
public static class DispatcherServices
{
    public static WebApplicationBuilder AddDispatcherServices(this WebApplicationBuilder builder)
    {
        var options = builder.AddWorkqDefaults(defaultPort: 8082);
        var services = builder.Services;
        services.AddSingleton<UnhandledStore>();
        services.AddSingleton<DeadLetterStore>();
        services.AddSingleton<MetricsStore>();
        services.AddSingleton<CronStore>();
        services.AddSingleton<ScheduledEventStore>();
        services.AddSingleton<BatchStore>();
        services.AddSingleton<StepStore>();
        services.AddSingleton<DebounceStore>();
        services.AddSingleton<ExchangeCheck>();
        services.AddHostedService<TopologyReconciler>();
        services.AddHostedService<UnhandledAndDeadLetterConsumer>();
        services.AddHostedSingleton<UnhandledReplayer>();
        services.AddEventStatus();
        services.AddHostedService<EventStatusPruner>();
        services.AddHostedService<BatchSettler>();
        services.AddSingleton<PublishEvent>(provider => CronPublishing.RecordingQueued(
            provider.GetRequiredService<EventPublisher>(), provider.GetRequiredService<EventStatusRecorder>()));
        services.AddSingleton<CronFirer>();
        services.AddHostedService<CronLoop>();
        services.AddHostedService<ScheduledPump>();
        services.AddHostedService<MetricsRollup>();
        services.AddControlPlane(options.Broker, bus => bus.AddConsumer<ReplayOnWorkerChanged>());
        return builder;
    }
}
