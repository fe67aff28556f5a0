using Workq.Emitter.Emitting;
using Workq.Shared.ControlPlane;
using Workq.Shared.Hosting;
using Workq.Shared.Storage;

namespace Workq.Emitter;

/// <summary>What the emitter service is made of: its stores, the emitter, the canvases' emit rates.</summary>
public static class EmitterServices
{
    public static WebApplicationBuilder AddEmitterServices(this WebApplicationBuilder builder)
    {
        var options = builder.AddWorkqDefaults(defaultPort: 8081);
        builder.RequireAdminToken(options.Service);
        var services = builder.Services;
        services.AddSingleton<IdempotencyStore>();
        services.AddSingleton<ScheduledEventStore>();
        services.AddSingleton<DebounceStore>();
        services.AddSingleton<BatchStore>();
        services.AddEventStatus();
        services.AddSingleton<IEmitEdges, EmitEdges>();
        services.AddSingleton<EventEmitter>();
        services.AddSingleton<CanvasEmitRate>();
        services.AddOpenApi();
        services.AddControlPlane(options.Broker, bus => bus.AddConsumer<CanvasChangedConsumer>());
        return builder;
    }
}
