using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MongoDB.Driver;
using Workq.Shared.Configuration;
using Workq.Shared.Hosting;
using Workq.Shared.Storage;

namespace Workq.Traces.MongoDb;

public static class TraceStoreSetup
{
    /// <summary>
    /// The one place the trace store is chosen: MongoDB when <c>WORKQ_TRACES_MONGODB</c> is set, else PostgreSQL.
    /// </summary>
    public static IServiceCollection AddTraceStore(this IServiceCollection services, TraceStoreOptions options)
    {
        if (options.MongoDb is { } url)
        {
            var parsed = Parse(url);
            services.AddSingleton(
                provider => new MongoTraceStore(parsed, provider.GetRequiredService<ILogger<MongoTraceStore>>()));
            services.AddSingleton<ITraceStore>(provider => provider.GetRequiredService<MongoTraceStore>());
            // Not ready without its trace store, as without PostgreSQL.
            services.AddHealthChecks()
                .AddCheck<MongoHealthCheck>("mongodb", tags: [HealthChecks.Ready], timeout: HealthChecks.Timeout);
        }
        else
            services.AddSingleton<ITraceStore, PostgresTraceStore>();
        return services;
    }

    // Parsed here, before the service listens: a malformed URL stops the start with its reason, not the first trace
    // write.
    private static MongoUrl Parse(string url)
    {
        try
        {
            return MongoUrl.Create(url);
        }
        catch (MongoConfigurationException e)
        {
            throw new InvalidOperationException($"WORKQ_TRACES_MONGODB is not a usable MongoDB URL: {e.Message}", e);
        }
    }
}
