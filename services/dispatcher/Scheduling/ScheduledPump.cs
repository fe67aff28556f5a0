using Npgsql;
using Workq.Shared.Messaging;
using Workq.Shared.Poison;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.Scheduling;

/// <summary>
/// Publishes delayed emits when they are due (docs/DESIGN.md, "Delayed emits"). Every dispatcher instance runs one; the
/// claim skips rows another holds, so each event goes out once (twice only if a pump dies between the broker's confirm
/// and its commit). It sleeps until the next event is due, at most <see cref="MaxSleep"/>, and an emit that schedules
/// something wakes it at once (LISTEN/NOTIFY), so an event leaves well within a second of its time. An event the broker
/// cannot take for its own reasons is moved to the quarantine, at once when its canvas's exchange is gone, else after
/// <see cref="PoisonGuard.MaxAttempts"/> passes with backoff: it never holds up the events due after it.
/// </summary>
public sealed class ScheduledPump(
    ScheduledEventStore store,
    NpgsqlDataSource db,
    EventPublisher publisher,
    ExchangeCheck exchanges,
    EventStatusRecorder statuses,
    TimeProvider clock,
    ILogger<ScheduledPump> logger)
    : BackgroundService
{
    private const int ClaimLimit = 500;
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(250);
    // Rows another pump holds stay due until it commits: a short nap, not a spin.
    private static readonly TimeSpan MinSleep = TimeSpan.FromMilliseconds(20);
    /// <summary>
    /// An event the broker refused (its queue is full) or could not confirm is tried again this much later.
    /// </summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly OutageLog outage = new(logger, "Publishing scheduled events", clock);
    private readonly Attempts<Guid> attempts = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        NpgsqlConnection? listener = null;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                listener ??= await ListenAsync(stoppingToken);
                while (await PumpAsync(stoppingToken) == ClaimLimit) { }
                failures = 0;
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
                outage.Failed(e);
                if (listener is not null) await listener.DisposeAsync();
                listener = null;
                try
                {
                    await Task.Delay(PoisonGuard.OutageBackoff(++failures), clock, stoppingToken);
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

    private async Task<int> PumpAsync(CancellationToken cancellationToken)
    {
        var (claimed, quarantined) = await store.PumpAsync(
            clock.GetUtcNow(),
            ClaimLimit,
            PublishAsync,
            cancellationToken);
        outage.Succeeded();
        foreach (var (entry, id) in quarantined)
        {
            statuses.Record(EventStatusUpdate.Quarantined(entry, id));
            logger.LogWarning("Scheduled event {EventId} of {Canvas}/{Worker} was quarantined as item {QuarantineId} " +
                "after {Attempts} attempts: {Error}",
                entry.EventId, entry.Canvas, entry.Worker, id, entry.Attempts, entry.Error);
        }
        return claimed;
    }

    /// <summary>
    /// All of a claim at once, each with confirms. One that fails for its own reasons is tried again alone straight
    /// away: a publish the broker refuses closes its channel, and with it the publishes that shared the channel, which
    /// are not to blame.
    /// </summary>
    private async Task<PumpOutcome> PublishAsync(IReadOnlyList<ScheduledEvent> due)
    {
        // Not the stopping token: a publish already on the wire is finished, so its row is deleted rather than sent
        // again. In their claim's order (run_at, then emit order): the same key's events reach its lane in that order.
        var publishes = publisher.PublishInOrder(
            due.Select(e => (e.Envelope, (ReadOnlyMemory<byte>)e.Body)).ToList(),
            CancellationToken.None);
        try
        {
            await Task.WhenAll(publishes);
        }
        catch (Exception)
        {
            // Each publish is looked at below.
        }
        var now = clock.GetUtcNow();
        var published = new List<Guid>(due.Count);
        var later = new List<(Guid, DateTimeOffset)>();
        var quarantined = new List<QuarantineEntry>();
        // A keyed event after one of its key that failed waits for it (and failed with its error): it is not to blame
        // either.
        HashSet<(string Worker, string Key)>? heldKeys = null;
        for (var i = 0; i < due.Count; i++)
        {
            var (envelope, body) = (due[i].Envelope, due[i].Body);
            if (envelope.OrderingKey is { } key && heldKeys?.Contains((envelope.Worker, key)) == true)
            {
                later.Add((envelope.Id, now + RetryAfter));
                continue;
            }
            var error = publishes[i].Exception?.InnerException;
            if (error is not null
                && !Failures.IsTransient(error)) error = await RetryOrBlameAsync(envelope, body, error);
            if (error is null)
            {
                published.Add(envelope.Id);
                attempts.Forget(envelope.Id);
                statuses.Record(EventStatusUpdate.Queued(envelope));
                continue;
            }
            if (envelope.OrderingKey is { } held) (heldKeys ??= []).Add((envelope.Worker, held));
            if (Failures.IsTransient(error))
            {
                outage.Failed(error);
                later.Add((envelope.Id, now + RetryAfter));
                continue;
            }
            var (count, firstFailedAt) = attempts.Fail(envelope.Id, now);
            if (count < PoisonGuard.MaxAttempts && error is not PoisonMessageException)
            {
                later.Add((envelope.Id, now + PoisonGuard.Backoff(count)));
                continue;
            }
            attempts.Forget(envelope.Id);
            quarantined.Add(QuarantineEntry.Event(
                QuarantineSources.Scheduled,
                envelope,
                body,
                new PoisonFailure(error, count, firstFailedAt)));
        }
        return new PumpOutcome(published, later, quarantined);
    }

    /// <summary>
    /// After a refusal: the event is to blame when its canvas's exchange is gone; else it is published again, alone.
    /// </summary>
    private async Task<Exception?> RetryOrBlameAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        Exception refusal)
    {
        try
        {
            if (ExchangeCheck.IsNotFound(refusal)
                && await exchanges.BlameAsync(envelope, CancellationToken.None) is { } blamed) return blamed;
            await publisher.PublishAsync(envelope, body, CancellationToken.None);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
