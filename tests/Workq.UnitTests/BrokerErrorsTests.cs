using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using Workq.Shared.Messaging;

namespace Workq.UnitTests;

/// <summary>Which exceptions mean that the channel a call ran on is gone.</summary>
public sealed class BrokerErrorsTests
{
    private static readonly ShutdownEventArgs ConnectionForced = new(ShutdownInitiator.Peer, 320, "CONNECTION_FORCED");

    public static TheoryData<Exception, bool> Cases => new()
    {
        { new AlreadyClosedException(ConnectionForced), true },
        { new OperationInterruptedException(ConnectionForced), true },
        { new IOException("connection reset"), true },
        { new EndOfStreamException(), true },
        { new ObjectDisposedException("channel"), false },
        { new TimeoutException(), false },
        { new InvalidOperationException(), false },
        { new OperationCanceledException(), false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_channel_is_gone_after_a_close_an_interruption_or_a_broken_socket(Exception e, bool gone) =>
        Assert.Equal(gone, BrokerErrors.IsChannelGone(e));
}
