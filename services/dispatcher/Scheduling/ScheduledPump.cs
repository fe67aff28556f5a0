using Npgsql;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.Scheduling;

/// <summary>
/// Publishes delayed emits when they are due (docs/DESIGN.md, "Delayed emits"). Every dispatcher instance runs one; the claim skips
/// rows another holds, so each event goes out once (twice only if a pump dies between the broker's confirm and its commit).
/// It sleeps until the next event is due, at most <see cref="MaxSleep"/>, and an emit that schedules something wakes it at once
/// (LISTEN/NOTIFY), so an event leaves well within a second of its time.
/// </summary>
public sealed class ScheduledPump(ScheduledEventStore store, NpgsqlDataSource db, EventPublisher publisher, EventStatusRecorder statuses, TimeProvider clock,
    ILogger<ScheduledPump> logger)
    : BackgroundService
{
    private const int ClaimLimit = 500;
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(250);
    // Rows another pump holds stay due until it commits: a short nap, not a spin.
    private static readonly TimeSpan MinSleep = TimeSpan.FromMilliseconds(20);
    /// <summary>An event the broker refused (its queue is full) or could not confirm is tried again this much later.</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        NpgsqlConnection? listener = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                listener ??= await ListenAsync(stoppingToken);
                while (await store.PumpAsync(clock.GetUtcNow(), ClaimLimit, PublishAsync, RetryAfter, stoppingToken) == ClaimLimit) { }
                var next = await store.NextRunAtAsync(stoppingToken);
                var sleep = next is { } at ? at - clock.GetUtcNow() : MaxSleep;
                sleep = sleep < MinSleep ? MinSleep : sleep > MaxSleep ? MaxSleep : sleep;
                await listener.WaitAsync(sleep, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Publishing scheduled events failed; retrying in a second");
                if (listener is not null) await listener.DisposeAsync();
                listener = null;
                try
                {
                    await Task.Delay(RetryAfter, clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        if (listener is not null) await listener.DisposeAsync();
    }

    private async Task<NpgsqlConnection> ListenAsync(CancellationToken cancellationToken)
    {
        var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var listen = new NpgsqlCommand($"listen {ScheduledEventStore.Channel}", connection);
        await listen.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    /// <summary>All of a claim at once, each with confirms; those not confirmed stay in the table for a later pass.</summary>
    private async Task<(IReadOnlyList<Guid> Published, IReadOnlyList<Guid> Later)> PublishAsync(IReadOnlyList<ScheduledEvent> due)
    {
        // Not the stopping token: a publish already on the wire is finished, so its row is deleted rather than sent again.
        // In their claim's order (run_at, then emit order): the same key's events reach its lane in that order.
        var publishes = publisher.PublishInOrder(due.Select(e => (e.Envelope, (ReadOnlyMemory<byte>)e.Body)).ToList(), CancellationToken.None);
        try
        {
            await Task.WhenAll(publishes);
        }
        catch (Exception e) when (e is QueueFullException or BrokerUnavailableException)
        {
            logger.LogWarning("{Count} due scheduled events were not enqueued ({Reason}); they are tried again in {RetryAfter}",
                publishes.Count(p => !p.IsCompletedSuccessfully), e.Message, RetryAfter);
        }
        var published = new List<Guid>(due.Count);
        var later = new List<Guid>();
        for (var i = 0; i < due.Count; i++)
        {
            var envelope = due[i].Envelope;
            if (!publishes[i].IsCompletedSuccessfully)
            {
                later.Add(envelope.Id);
                continue;
            }
            published.Add(envelope.Id);
            statuses.Record(EventStatusUpdate.Queued(envelope));
        }
        return (published, later);
    }
}
