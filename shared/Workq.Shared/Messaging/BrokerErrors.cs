using RabbitMQ.Client.Exceptions;

namespace Workq.Shared.Messaging;

/// <summary>The broker exceptions that many places answer the same way.</summary>
public static class BrokerErrors
{
    /// <summary>
    /// The channel (or its connection) closed under a call: a node went away, the connection is recovering, or the
    /// service is stopping. The call cannot be retried on that channel; the delivery comes back to another.
    /// </summary>
    public static bool IsChannelGone(Exception e) =>
        e is AlreadyClosedException or OperationInterruptedException or IOException;
}
