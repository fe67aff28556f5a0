using Workq.Control.Apis;
using Workq.Control.Canvases;
using Workq.Control.Compiling;
using Workq.Control.Deploying;
using Workq.Control.Events;
using Workq.Control.Stats;
using Workq.Shared.Configuration;
using Workq.Shared.ControlPlane;
using Workq.Shared.Hosting;
using Workq.Shared.Http;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Traces.MongoDb;

namespace Workq.Control;

/// <summary>What the control service is made of: its stores, compiling, queue statistics, worker commands.</summary>
public static class ControlServices
{
    public static WebApplicationBuilder AddControlServices(this WebApplicationBuilder builder)
    {
        var options = builder.AddWorkqDefaults(defaultPort: 8080);
        builder.RequireAdminToken(options.Service);
        var services = builder.Services;
        services.AddStores(options.Traces);
        // Handler code is compiled in separate processes that can be killed (see docs/DESIGN.md, "Handler code").
        services.AddSingleton(CompilerPoolOptions.From(options.Compiler));
        services.AddHostedSingleton<CompilerPool>();
        services.AddHostedService<AssemblyBackfill>();
        services.AddQueueStats();
        services.AddSingleton<WorkerCommands>();
        services.AddSingleton<WorkerDeployment>();
        services.AddSingleton<QuarantineRedrive>();
        services.AddHostedService<QuarantineGauge>();
        services.AddOpenApi();
        services.AddSingleton<AppliedChangeWaiter>();
        services.AddControlPlane(options.Broker, bus =>
        {
            bus.AddConsumer<CanvasChangedConsumer>();
            bus.AddConsumer<WorkerInstanceLoadConsumer>();
        });
        return builder;
    }

    private static void AddStores(this IServiceCollection services, TraceStoreOptions traces)
    {
        services.AddSingleton<UnhandledStore>();
        services.AddSingleton<DeadLetterStore>();
        services.AddSingleton<MetricsStore>();
        services.AddSingleton<CancelledEventStore>();
        services.AddSingleton<InstanceStore>();
        services.AddSingleton<CronStore>();
        services.AddSingleton<ScheduledEventStore>();
        services.AddSingleton<BatchStore>();
        services.AddSingleton<StepStore>();
        services.AddSingleton<DebounceStore>();
        services.AddScoped<Events.EventCancels>();
        services.AddEventStatus();
        services.AddHostedSingleton<EventStatusWaiters>();
        services.AddTraceStore(traces);
        services.AddDeletions();
    }

    private static void AddQueueStats(this IServiceCollection services)
    {
        services.AddSingleton<QueueProbe>();
        services.AddHostedSingleton<LiveQueueCounts>();
        services.AddSingleton<InstanceLoads>();
        services.AddSingleton<WorkerViews>();
        services.AddSingleton<QueueStats>();
        services.AddHostedService<QueueDepthGauge>();
    }
}
