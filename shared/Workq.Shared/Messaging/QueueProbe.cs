using System.Threading.Channels;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Workq.Shared.Messaging;

/// <summary>
/// Passive queue declarations on a few long-lived channels, one declaration per channel at a time, so reading a
/// thousand queues opens no channel per call and asks the broker at most <see cref="Parallelism"/> things at once.
/// </summary>
public sealed class QueueProbe(BrokerConnection broker) : IDisposable
{
    public const int Parallelism = 8;

    private readonly Channel<IChannel?> channels = CreatePool();

    /// <summary>The queue's counts, or null when it does not exist.</summary>
    public async Task<QueueReading?> ReadAsync(string queue, CancellationToken cancellationToken)
    {
        var channel = await channels.Reader.ReadAsync(cancellationToken);
        try
        {
            if (channel is not { IsOpen: true })
            {
                // A 404 closed it (or the connection went): a new one replaces it.
                channel?.Dispose();
                channel = null;
                channel = await (await broker.GetAsync(cancellationToken)).CreateChannelAsync(
                    cancellationToken: cancellationToken);
            }
            var ok = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            return new QueueReading(ok.MessageCount, ok.ConsumerCount);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            // A reply may still be on its way to this channel: it must not answer the next declaration.
            channel?.Dispose();
            channel = null;
            throw;
        }
        finally
        {
            channels.Writer.TryWrite(channel);
        }
    }

    private static Channel<IChannel?> CreatePool()
    {
        var pool = Channel.CreateBounded<IChannel?>(Parallelism);
        for (var i = 0; i < Parallelism; i++) pool.Writer.TryWrite(null);
        return pool;
    }

    public void Dispose()
    {
        while (channels.Reader.TryRead(out var channel)) channel?.Dispose();
    }
}
