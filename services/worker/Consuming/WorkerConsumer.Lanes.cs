using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Workq.Shared.Messaging;
using Workq.Worker.Recording;
using Workq.Worker.Runs;
using Workq.Worker.Settling;

namespace Workq.Worker.Consuming;

/// <summary>
/// The worker's ordering lanes (docs/DESIGN.md "Ordering keys"). One channel consumes every lane, each with a prefetch
/// of the worker's concurrency; a lane has a single active consumer across all instances, and this channel's callbacks
/// run one at a time in delivery order, so each key's events arrive here in queue order. A callback only chains the
/// delivery after its key's previous one (<see cref="KeyedSerialExecutor"/>); the chain runs it once that one settled,
/// a slot and a rate token are free. Nothing here puts an event behind its successors: retries, crash suspects and
/// requeues run again in place, and an event that must go back is never given back alone: the channel is closed, and
/// the broker returns all its unacked events, in order, to the lanes, whose next consumer (on this instance or another)
/// takes them up.
/// </summary>
public sealed partial class WorkerConsumer
{
    private readonly KeyedSerialExecutor chains = new();
    private IChannel? laneChannel;
    private readonly List<(AsyncEventingBasicConsumer Consumer, string Tag)> laneConsumers = [];
    private int keyedRunning;
    // Set once the lanes' unacked events are to go back: nothing more starts or is acked on the channel, and the
    // consumer reports itself unhealthy, so the reconciler replaces it (closing the channel once what runs has
    // finished).
    private volatile bool lanesBroken;

    private bool LanesHealthy => lanes == 0 || (!lanesBroken && laneConsumers.TrueForAll(c => c.Consumer.IsRunning));

    private async Task StartLanesAsync(IConnection connection, CancellationToken cancellationToken)
    {
        laneChannel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false,
                consumerDispatchConcurrency: 1), cancellationToken);
        // A recovered channel numbers its deliveries afresh: what the chains hold could no longer be acked.
        laneChannel.ChannelShutdownAsync += (_, _) =>
        {
            lanesBroken = true;
            return Task.CompletedTask;
        };
        await laneChannel.BasicQosAsync(0, (ushort)concurrency, global: false, cancellationToken);
        for (var lane = 0; lane < lanes; lane++)
        {
            var laneConsumer = new AsyncEventingBasicConsumer(laneChannel);
            laneConsumer.ReceivedAsync += OnLaneReceivedAsync;
            var tag = await laneChannel.BasicConsumeAsync(
                Topology.LaneQueue(canvas, worker, lane),
                autoAck: false,
                laneConsumer,
                cancellationToken);
            laneConsumers.Add((laneConsumer, tag));
        }
    }

    private Task OnLaneReceivedAsync(object sender, BasicDeliverEventArgs delivery)
    {
        // Left unacked: it goes back with the channel. A cancelled consumer keeps its lanes (not cancelled at the
        // broker) until it has drained, so no other consumer can take a lane while events of its keys still run here.
        if (lanesBroken || IsCancelled) return Task.CompletedTask;
        if (Stale(delivery)) return AckLaneAsync(delivery.DeliveryTag);
        var envelope = Read(delivery);
        var keyed = new KeyedDelivery(envelope, delivery.DeliveryTag, EventHeaders.AttemptOf(delivery.BasicProperties),
            EventHeaders.String(delivery.BasicProperties.Headers, EventHeaders.CrashSuspect) is not null, delivery.Body
                .ToArray());
        // An event in a lane without a key (sent there by hand) still runs in the lane's order.
        chains.Add(envelope.OrderingKey ?? "", () => RunKeyedAsync(keyed));
        return Task.CompletedTask;
    }

    private sealed record KeyedDelivery(EventEnvelope Envelope, ulong Tag, int Attempt, bool Suspect, byte[] Body);

    private async Task RunKeyedAsync(KeyedDelivery delivery)
    {
        if (lanesBroken) return;
        try
        {
            // Only shutdown stops these waits: pausing lets what was delivered finish, as for unkeyed events.
            await slots!.WaitAsync(delivery.Envelope.Priority, delivery.Envelope.EnqueuedAt, stopping.Token);
        }
        catch (OperationCanceledException)
        {
            BreakLanes();
            return;
        }
        Interlocked.Increment(ref keyedRunning);
        try
        {
            await rateGate.WaitAsync(stopping.Token);
            if (lanesBroken) return;
            if (await RunInPlaceAsync(delivery)) await AckLaneAsync(delivery.Tag);
            else BreakLanes();
        }
        catch (Exception e)
        {
            if (e is not OperationCanceledException || !stopping.IsCancellationRequested)
                logger.LogWarning(e, "Keyed event delivery on {Canvas}/{Worker} failed before it completed; its " +
                    "lanes' events go back to their queues", canvas, worker);
            Note(RunStatus.Again(delivery.Envelope, delivery.Attempt, null));
            BreakLanes();
        }
        finally
        {
            Interlocked.Decrement(ref keyedRunning);
            slots!.Release();
        }
    }

    /// <summary>
    /// Runs the event until it is settled here (completed, failed for good, dead-lettered); false when it must go back
    /// to its lane.
    /// </summary>
    private async Task<bool> RunInPlaceAsync(KeyedDelivery delivery)
    {
        var envelope = delivery.Envelope;
        var attempt = delivery.Attempt;
        var suspect = delivery.Suspect;
        var requeues = 0;
        if (await SupersededAsync(envelope, attempt)) return true;
        while (true)
        {
            if (lanesBroken) return false;
            var current = Handler;
            if (services.Cancelled.IsCancelled(canvas, worker, envelope.Id))
            {
                services.Runner.RecordCancelled(current.Version, envelope, attempt, delivery.Body);
                var cancelled = RunStatus.Cancelled(envelope, attempt);
                await services.BatchFinishes.RecordAsync(envelope, cancelled);
                Note(cancelled);
                services.Cancelled.Forget(canvas, worker, envelope.Id);
                return true;
            }
            var startedAt = DateTimeOffset.UtcNow;
            Note(RunStatus.Running(envelope, attempt, startedAt));
            var result = await services.Runner
                .RunAsync(current, envelope, attempt, suspect, delivery.Body, stopping.Token);
            var retry = Retry;
            var settled = RunStatus.Settled(envelope, attempt, startedAt, result, retry);
            Note(settled);
            var settlement = Settlement.Decide(
                result,
                new DeliveryState(attempt, retry, InLane: true, suspect, requeues));
            switch (settlement.Verdict)
            {
                case SettleVerdict.GiveBack:
                    return false;
                case SettleVerdict.RunAgain:
                    // The key waits with it: its successors run after it succeeds or is dead-lettered.
                    if (result.Outcome == RunOutcome.Requeue) requeues++;
                    if (settlement.Delay > TimeSpan.Zero) await Task.Delay(settlement.Delay, stopping.Token);
                    attempt = settlement.Attempt;
                    suspect = settlement.Suspect;
                    continue;
                case SettleVerdict.DeadLetter:
                    await services.Retries
                        .DeadLetterAsync(envelope, settlement.Attempt, settlement.Reason ?? "", delivery.Body,
                            stopping.Token);
                    return true;
                default:
                    await SuspendAsync(envelope, result, delivery.Body);
                    await services.BatchFinishes.RecordAsync(envelope, settled);
                    return true;
            }
        }
    }

    private async Task AckLaneAsync(ulong tag)
    {
        if (lanesBroken || laneChannel is not { IsOpen: true } open) return;
        try
        {
            await open.BasicAckAsync(tag, multiple: false);
        }
        catch (Exception e) when (BrokerErrors.IsChannelGone(e))
        {
            // Closed under us: the broker gives the event to the lane's next consumer, and it runs again.
            lanesBroken = true;
        }
    }

    private void BreakLanes()
    {
        if (lanesBroken) return;
        lanesBroken = true;
        logger.LogInformation(
            "Ordering lanes of {Canvas}/{Worker} are given back: their unacked events return to their queues in order",
            canvas,
            worker);
    }

    /// <summary>
    /// After the drain: what has not started stays unacked, and goes back to the lanes, in order, with the channel.
    /// </summary>
    private async Task CloseLanesAsync()
    {
        lanesBroken = true;
        if (laneChannel is not { } open) return;
        try
        {
            if (open.IsOpen) await open.CloseAsync();
        }
        catch (Exception e) when (BrokerErrors.IsChannelGone(e))
        {
            // Closed under us: its unacked events went back already.
        }
        finally
        {
            open.Dispose();
        }
    }

    private async Task AbortLanesAsync()
    {
        if (laneChannel is not { } open) return;
        await open.AbortAsync(CancellationToken.None);
        open.Dispose();
        laneChannel = null;
    }
}
