using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Workq.Shared.Configuration;

namespace Workq.Shared.Messaging;

/// <summary>
/// The service's one AMQP connection (channels are cheap, connections are not). Opened lazily with
/// automatic recovery, so consumers and channels come back by themselves after a broker restart. With a cluster
/// (several nodes in <c>WORKQ_RABBITMQ_URL</c>) it opens to any node that answers, in random order so that
/// instances spread over the nodes, and recovers on any node left when its own goes.
/// </summary>
public sealed class BrokerConnection(BrokerOptions options, ILogger<BrokerConnection> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private IConnection? connection;
    private volatile bool recovering;

    public bool IsOpen => connection?.IsOpen == true;

    /// <summary>
    /// True from a connection loss until automatic recovery has brought back every channel and consumer. The client
    /// takes the list of channels to recover only after it has reconnected: a channel opened in between is on the new
    /// connection already, yet recovered a second time, and its first copy stays open, with any consumer on it, owned
    /// by nobody. So consumers are neither replaced nor started while this is true.
    /// </summary>
    public bool IsRecovering => recovering;

    public async ValueTask<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (connection is { } open) return open;
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (connection is not null) return connection;
            var factory = new ConnectionFactory
            {
                Uri = options.Amqp.First,
                AutomaticRecoveryEnabled = true,
                TopologyRecoveryEnabled = true,
                NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
                // A frozen node (a grey failure) is given up after two missed heartbeats, 10 s, and the connection
                // recovers elsewhere.
                RequestedHeartbeat = TimeSpan.FromSeconds(5),
                // A node cut off from the network answers no SYN: give up on it in 5 s (not 30) and try the next node.
                RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
                ClientProvidedName = $"workq-{AppDomain.CurrentDomain.FriendlyName}-{Environment.ProcessId}",
            };
            connection = await factory.CreateConnectionAsync(
                options.Amqp.Nodes.Select(Endpoint).ToList(),
                cancellationToken);
            connection.ConnectionShutdownAsync += (_, e) =>
            {
                recovering = true;
                logger.LogWarning("Broker connection shut down: {Reason}", e.ReplyText);
                return Task.CompletedTask;
            };
            logger.LogInformation(
                "Broker connection open to {Node} (of {Nodes})",
                connection.Endpoint,
                options.Amqp);
            connection.RecoverySucceededAsync += (_, _) =>
            {
                recovering = false;
                logger.LogInformation("Broker connection recovered on {Node}", connection.Endpoint);
                return Task.CompletedTask;
            };
            return connection;
        }
        finally
        {
            gate.Release();
        }
    }

    private static AmqpTcpEndpoint Endpoint(Uri node)
    {
        var tls = node.Scheme.Equals("amqps", StringComparison.OrdinalIgnoreCase);
        var port = node.Port > 0 ? node.Port : tls ? 5671 : 5672;
        return tls
            ? new AmqpTcpEndpoint(node.Host, port, new SslOption(node.Host, enabled: true))
            : new AmqpTcpEndpoint(node.Host, port);
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
