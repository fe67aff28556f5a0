using Workq.Shared.ControlPlane;
using Workq.Shared.Hosting;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;
using Workq.Traces.MongoDb;
using Workq.Worker.Consuming;
using Workq.Worker.Emitting;
using Workq.Worker.Instance;
using Workq.Worker.Isolation;
using Workq.Worker.Recording;
using Workq.Worker.Settling;

namespace Workq.Worker;

/// <summary>
/// What the worker service is made of: where handler code runs, the consumers, the recorders, the instance's reports.
/// </summary>
public static class WorkerServices
{
    /// <summary>
    /// Hosted services stop in the reverse order of their registration, and here that order matters: the control
    /// plane's bus stops first, then the consumers (<see cref="WorkerReconciler"/>), then what they used: the
    /// recorders, which write what the consumers finished, and last the runner processes.
    /// </summary>
    public static async Task<WebApplicationBuilder> AddWorkerServicesAsync(this WebApplicationBuilder builder)
    {
        var options = builder.AddWorkqDefaults(defaultPort: 8083);
        var services = builder.Services;
        services.AddSingleton<CancelledEventStore>();
        services.AddSingleton<ICancelledMarks>(sp => sp.GetRequiredService<CancelledEventStore>());
        services.AddSingleton<ScheduledEventStore>();
        services.AddSingleton<BatchStore>();
        services.AddSingleton<StepStore>();
        services.AddSingleton<DebounceStore>();
        services.AddSingleton<IdempotencyStore>();
        services.AddSingleton<EmittedIds>();
        services.AddSingleton<HandlerEmitEdges>();
        services.AddSingleton<InstanceStore>();
        services.AddTraceStore(options.Traces);
        await builder.AddHandlerHostAsync(options);
        services.AddSingleton<EventRunner>();
        services.AddSingleton<IRetryBroker, RetryBroker>();
        services.AddSingleton<RetryScheduler>();
        services.AddSingleton<CancelledEvents>();
        services.AddSingleton<IWorkerBlocker, WorkerBlocker>();
        services.AddSingleton<LoopGuard>();
        services.AddSingleton<ConsumerLoads>();
        services.AddSingleton<IRateBuckets, RateBuckets>();
        services.AddSingleton<BatchFinishes>();
        // Priority slots ask whether a higher priority's queue has events ready (PrioritySlots).
        services.AddSingleton<QueueProbe>();
        services.AddSingleton<ConsumerServices>();
        // The recorders before the consumers: they stop after them.
        services.AddEventStatus();
        services.AddHostedSingleton<RunRecorder>();
        services.AddHostedSingleton<InstanceHeartbeat>();
        services.AddHostedService<LoadReporter>();
        services.AddHostedSingleton<WorkerReconciler>();
        services.AddControlPlane(options.Broker, bus =>
        {
            bus.AddConsumer<WorkerChangedConsumer>();
            bus.AddConsumer<EventCancelledConsumer>();
        });
        return builder;
    }
}
