using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Workq.Shared.Messaging;

namespace Workq.Worker.Settling;

/// <summary>
/// Acks one consumer channel's deliveries in as few frames as it safely can (see <see cref="AckLedger"/>).
/// An ack waits at most a millisecond for others to join it, and not at all when nothing else is
/// running on the channel or when enough are waiting.
/// </summary>
public sealed class DeliverySettler
{
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(1);

    private readonly IChannel channel;
    private readonly AckLedger ledger;
    private readonly Lock gate = new();
    private readonly SemaphoreSlim sending = new(1, 1);
    private bool flushScheduled;

    public DeliverySettler(IChannel channel, int window)
    {
        this.channel = channel;
        ledger = new AckLedger(window);
        channel.ChannelShutdownAsync += OnShutdownAsync;
    }

    /// <summary>Deliveries handed to the handler and not finished yet.</summary>
    public int Running
    {
        get
        {
            lock (gate) return ledger.Running;
        }
    }

    public void Started()
    {
        lock (gate) ledger.Started();
    }

    /// <summary>The event is done with: acked, or given back to the queue when <paramref name="requeue"/>.</summary>
    public Task FinishAsync(ulong deliveryTag, bool requeue)
    {
        lock (gate)
        {
            if (!ledger.Finished(deliveryTag, requeue))
            {
                if (flushScheduled) return Task.CompletedTask;
                flushScheduled = true;
                _ = FlushSoonAsync();
                return Task.CompletedTask;
            }
        }
        return FlushAsync();
    }

    private async Task FlushSoonAsync()
    {
        await Task.Delay(Linger);
        lock (gate) flushScheduled = false;
        await FlushAsync();
    }

    /// <summary>Sends every settlement decided so far, in the order the ledger requires.</summary>
    public async Task FlushAsync()
    {
        await sending.WaitAsync();
        try
        {
            AckLedger.Settlements due;
            lock (gate) due = ledger.Take();
            foreach (var tag in due.Requeue) await channel.BasicNackAsync(tag, multiple: false, requeue: true);
            if (due.AckThrough > 0) await channel.BasicAckAsync(due.AckThrough, multiple: true);
            foreach (var tag in due.AckSingly) await channel.BasicAckAsync(tag, multiple: false);
        }
        catch (Exception e) when (BrokerErrors.IsChannelGone(e) || e is ObjectDisposedException)
        {
            // Closed under us: the broker puts back whatever was not acked, to be delivered again.
        }
        finally
        {
            sending.Release();
        }
    }

    private Task OnShutdownAsync(object sender, ShutdownEventArgs args)
    {
        lock (gate) ledger.ChannelReset();
        return Task.CompletedTask;
    }
}
