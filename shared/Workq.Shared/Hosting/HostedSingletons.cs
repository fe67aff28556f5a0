using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Workq.Shared.Hosting;

/// <summary>Services that other services inject and that the host also starts and stops.</summary>
public static class HostedSingletons
{
    /// <summary>
    /// Registers <typeparamref name="T"/> once, as itself and as a hosted service (one instance for both).
    /// Hosted services stop in the reverse order of their registration: register what must stop last first.
    /// </summary>
    public static IServiceCollection AddHostedSingleton<T>(this IServiceCollection services)
        where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddHostedService(provider => provider.GetRequiredService<T>());
        return services;
    }
}
