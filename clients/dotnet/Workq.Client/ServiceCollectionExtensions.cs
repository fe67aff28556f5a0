using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Workq.Client;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="WorkqClient"/> and <see cref="WorkqControlClient"/> as typed HttpClients
    /// (IHttpClientFactory manages the connections), configured from <see cref="WorkqClientOptions"/>.
    /// </summary>
    public static IServiceCollection AddWorkqClient(
        this IServiceCollection services,
        Action<WorkqClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(configure);
        services.AddHttpClient(nameof(WorkqClient)).AddTypedClient((HttpClient http, IServiceProvider provider) =>
        {
            var options = provider.GetRequiredService<IOptions<WorkqClientOptions>>().Value;
            return new WorkqClient(
                Required(options.EmitterUrl, nameof(options.EmitterUrl)),
                Required(options.Token, nameof(options.Token)),
                http,
                options.Retry);
        });
        services.AddHttpClient(nameof(WorkqControlClient))
            .AddTypedClient((HttpClient http, IServiceProvider provider) =>
                {
                    var options = provider.GetRequiredService<IOptions<WorkqClientOptions>>().Value;
                    return new WorkqControlClient(
                Required(options.ControlUrl, nameof(options.ControlUrl)),
                Required(options.Token, nameof(options.Token)),
                http,
                options.Retry);
                });
        return services;
    }

    private static T Required<T>(T? value, string name) where T : class =>
        value
            ?? throw new InvalidOperationException($"Set WorkqClientOptions.{name} in AddWorkqClient(options => ...).");
}
