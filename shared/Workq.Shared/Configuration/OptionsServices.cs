using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Workq.Shared.Configuration;

public static class OptionsServices
{
    /// <summary>
    /// Reads every component's settings and registers each one on its own, so that a class asks for the components it
    /// reads. Throws <see cref="InvalidOperationException"/> naming the first variable with a bad value.
    /// </summary>
    public static WorkqOptions AddWorkqOptions(
        this IServiceCollection services,
        IConfiguration configuration,
        int defaultPort)
    {
        var options = WorkqOptions.From(configuration, defaultPort);
        services.AddSingleton(options.Service);
        services.AddSingleton(options.Broker);
        services.AddSingleton(options.Emit);
        services.AddSingleton(options.Traces);
        services.AddSingleton(options.EventStatus);
        services.AddSingleton(options.Retention);
        services.AddSingleton(options.Compiler);
        services.AddSingleton(options.Handlers);
        services.AddSingleton(options.Pool);
        services.AddSingleton(options.Priorities);
        return options;
    }
}
