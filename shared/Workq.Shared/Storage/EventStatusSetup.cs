using Microsoft.Extensions.DependencyInjection;
using Workq.Shared.Hosting;

namespace Workq.Shared.Storage;

public static class EventStatusSetup
{
    public static IServiceCollection AddEventStatus(this IServiceCollection services)
    {
        services.AddSingleton<EventStatusStore>();
        services.AddHostedSingleton<EventStatusRecorder>();
        return services;
    }
}
