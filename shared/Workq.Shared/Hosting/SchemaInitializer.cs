using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Shared.Hosting;

/// <summary>
/// Runs before the service's other hosted services: creates the tables and the shared exchanges and
/// queues. Servers may still be starting, so it retries with backoff for up to a minute.
/// </summary>
public sealed class SchemaInitializer(
    NpgsqlDataSource db,
    Topology topology,
    ILogger<SchemaInitializer> logger) : IHostedService
{
    private static readonly ResiliencePipeline Startup = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 30,
            Delay = TimeSpan.FromMilliseconds(500),
            BackoffType = DelayBackoffType.Exponential,
            MaxDelay = TimeSpan.FromSeconds(3),
            UseJitter = true,
        })
        .AddTimeout(TimeSpan.FromSeconds(90))
        .Build();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Startup.ExecuteAsync(async token =>
        {
            try
            {
                await Schema.EnsureAsync(db, token);
                await topology.DeclareSharedAsync(token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Waiting for PostgreSQL and RabbitMQ: {Reason}", e.Message);
                throw;
            }
        }, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
