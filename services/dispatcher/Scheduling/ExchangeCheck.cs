using RabbitMQ.Client.Exceptions;
using Workq.Shared.Messaging;
using Workq.Shared.Poison;

namespace Workq.Dispatcher.Scheduling;

/// <summary>
/// Whether a publish the broker refused with 404 named an exchange that does not exist (a canvas that is gone: the
/// event can never be published) or only shared its channel with one that did (the broker closes the channel, failing
/// every publish on it).
/// </summary>
public sealed class ExchangeCheck(BrokerConnection broker)
{
    private const int NotFound = 404;

    public static bool IsNotFound(Exception e)
    {
        for (Exception? cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is OperationInterruptedException { ShutdownReason.ReplyCode: NotFound }) return true;
        }
        return false;
    }

    /// <summary>
    /// After a refused publish of <paramref name="envelope"/>: a poison error when its canvas has no exchange, else
    /// null (the refusal was another publish's, and the event is to be tried again).
    /// </summary>
    public async Task<PoisonMessageException?> BlameAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        var exchange = Topology.CanvasExchange(envelope.Canvas);
        var connection = await broker.GetAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await channel.ExchangeDeclarePassiveAsync(exchange, cancellationToken);
            return null;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == NotFound)
        {
            return new PoisonMessageException(
                $"The exchange {exchange} does not exist: canvas '{envelope.Canvas}' does not (any more).");
        }
    }
}
