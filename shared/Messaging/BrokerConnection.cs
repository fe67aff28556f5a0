using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Workq.Shared.Configuration;

namespace Workq.Shared.Messaging;

/// <summary>
/// The service's one AMQP connection (channels are cheap, connections are not). Opened lazily with
/// automatic recovery, so consumers and channels come back by themselves after a broker restart.
/// </summary>
public sealed class BrokerConnection(WorkqOptions options, ILogger<BrokerConnection> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private IConnection? connection;

    public bool IsOpen => connection?.IsOpen == true;

    public async ValueTask<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (connection is { } open) return open;
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (connection is not null) return connection;
            var factory = new ConnectionFactory
            {
                Uri = new Uri(options.RabbitMqUrl),
                AutomaticRecoveryEnabled = true,
                TopologyRecoveryEnabled = true,
                NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
                RequestedHeartbeat = TimeSpan.FromSeconds(15),
                ClientProvidedName = $"workq-{AppDomain.CurrentDomain.FriendlyName}-{Environment.ProcessId}",
            };
            connection = await factory.CreateConnectionAsync(cancellationToken);
            connection.ConnectionShutdownAsync += (_, e) =>
            {
                logger.LogWarning("Broker connection shut down: {Reason}", e.ReplyText);
                return Task.CompletedTask;
            };
            connection.RecoverySucceededAsync += (_, _) =>
            {
                logger.LogInformation("Broker connection recovered");
                return Task.CompletedTask;
            };
            return connection;
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is not null)
        {
            await connection.CloseAsync();
            connection.Dispose();
        }
        gate.Dispose();
    }
}
