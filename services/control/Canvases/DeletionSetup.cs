using Workq.Shared.Storage;

namespace Workq.Control.Canvases;

public static class DeletionSetup
{
    /// <summary>
    /// Every store that keeps rows per canvas or per worker, for control's deletions; a new such store is added here.
    /// </summary>
    public static IServiceCollection AddDeletions(this IServiceCollection services)
    {
        // The emitter writes idempotency keys, but a canvas is deleted here: control needs the store only for that.
        services.AddSingleton<IdempotencyStore>();
        services.Owns<ITraceStore>(perWorker: true)
            .Owns<IdempotencyStore>(perWorker: false)
            .Owns<UnhandledStore>(perWorker: false)
            .Owns<DeadLetterStore>(perWorker: true)
            .Owns<MetricsStore>(perWorker: true)
            .Owns<CancelledEventStore>(perWorker: false)
            .Owns<CronStore>(perWorker: false)
            .Owns<ScheduledEventStore>(perWorker: true)
            .Owns<EventStatusStore>(perWorker: false)
            .Owns<QuarantineStore>(perWorker: false)
            .Owns<BatchStore>(perWorker: false)
            .Owns<StepStore>(perWorker: false)
            .Owns<DebounceStore>(perWorker: true);
        services.AddSingleton<CanvasDeletion>();
        services.AddSingleton<WorkerDeletion>();
        return services;
    }

    /// <summary>The store's own registration, seen also as what a deletion calls.</summary>
    private static IServiceCollection Owns<TStore>(
        this IServiceCollection services,
        bool perWorker) where TStore : class, ICanvasData
    {
        services.AddSingleton<ICanvasData>(provider => provider.GetRequiredService<TStore>());
        if (perWorker) services.AddSingleton(provider => (IWorkerData)provider.GetRequiredService<TStore>());
        return services;
    }
}
