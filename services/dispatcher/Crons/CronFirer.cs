using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Workq.Shared.Messaging;
using Workq.Shared.Poison;
using Workq.Shared.Scheduling;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.Crons;

/// <summary>
/// Fires the crons that are due: for each, the latest tick at or before now (so after downtime a
/// missed tick fires once, not a burst, and never before its time), claimed in the database so that
/// exactly one of any number of dispatchers publishes it, as an ordinary event: depth 0, a fresh
/// trace, a new id. Crons are read from the database on every call, so a change or delete counts
/// from the next call on. A tick the broker refuses for its own reasons is tried on
/// <see cref="PoisonGuard.MaxAttempts"/> passes, then its event goes to the quarantine and the cron moves on; a cron
/// that cannot be fired at all (its schedule no longer parses) is quarantined once and stops firing until it is put
/// again.
/// </summary>
/// <param name="exchanges">Tells a tick of a canvas that is gone (its exchange refused at once) from one that shared a
/// refused publish's channel.</param>
public sealed class CronFirer(
    CronStore store,
    QuarantineStore quarantine,
    PublishEvent publish,
    TimeProvider clock,
    ILogger<CronFirer> logger,
    Scheduling.ExchangeCheck? exchanges = null)
{
    /// <summary>
    /// A claim not published within this long belongs to a dispatcher that died: another may take the tick over.
    /// </summary>
    public static readonly TimeSpan StaleClaim = TimeSpan.FromMinutes(1);

    /// <summary>Tick records are kept this long, then cleaned up.</summary>
    public static readonly TimeSpan TickRetention = TimeSpan.FromDays(1);

    private const int MaxPerCall = 1_000;
    private const int Parallelism = 8;

    private readonly OutageLog outage = new(logger, "Firing crons", clock);
    private readonly Attempts<(string Canvas, string Cron, DateTimeOffset Tick)> tickFailures = new();
    private readonly Attempts<(string Canvas, string Cron)> cronFailures = new();

    /// <summary>A claimed tick whose publish the broker refused: tried again alone once the others are done.</summary>
    private sealed record Refused(
        DueCron Cron,
        CronSchedule Schedule,
        DateTimeOffset Tick,
        EventEnvelope Envelope,
        byte[] Body,
        Exception Refusal);

    /// <returns>How many ticks this call published.</returns>
    public async Task<int> FireDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = await store.DueAsync(now, MaxPerCall, cancellationToken);
        var fired = 0;
        var refused = new ConcurrentQueue<Refused>();
        await Parallel.ForEachAsync(due, new ParallelOptions
        {
            MaxDegreeOfParallelism = Parallelism,
            CancellationToken = cancellationToken
        }, async (cron, token) =>
        {
            try
            {
                if (await FireAsync(cron, now, refused, token)) Interlocked.Increment(ref fired);
                cronFailures.Forget((cron.Canvas, cron.Name));
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // One cron's trouble (say, the database blinked) must not hold up the others.
                await FailedAsync(cron, e, now, token);
            }
        });
        // A refused publish closes its channel, failing the publishes that shared it: each is tried again on its own.
        foreach (var tick in refused)
        {
            if (await RetryAloneAsync(tick, now, cancellationToken)) fired++;
        }
        return fired;
    }

    /// <returns>How many tick records older than <see cref="TickRetention"/> were removed.</returns>
    public Task<int> CleanUpAsync(CancellationToken cancellationToken) =>
        store.DeleteTicksBeforeAsync(clock.GetUtcNow() - TickRetention, cancellationToken);

    private async Task<bool> FireAsync(
        DueCron cron,
        DateTimeOffset now,
        ConcurrentQueue<Refused> refused,
        CancellationToken cancellationToken)
    {
        if (!CronSchedule.TryParse(cron.Schedule, out var schedule, out var error))
        {
            await SuspendAsync(
                cron,
                $"its schedule '{cron.Schedule}' no longer parses: {error}",
                1,
                now,
                cancellationToken);
            return false;
        }
        if (schedule!.LatestDue(cron.NextRun, now) is not { } tick) return false;

        // Microseconds: what PostgreSQL and the message headers keep.
        var enqueuedAt = now.AddTicks(-(now.Ticks % 10));
        var id = Guid.CreateVersion7(enqueuedAt);
        if (await store.ClaimAsync(
            cron.Canvas,
            cron.Name,
            tick,
            id,
            now,
            now - StaleClaim,
            cancellationToken) is not { } claim) return false;

        // Of the canvas that claimed it: an event that outlives the canvas (published as it is deleted) is dropped by a
        // re-created one.
        var envelope = new EventEnvelope(
            id,
            cron.Canvas,
            claim.Worker,
            enqueuedAt,
            Depth: 0,
            NewTraceParent(),
            CanvasIncarnation: claim.CanvasIncarnation);
        var body = Encoding.UTF8.GetBytes(claim.Event);
        try
        {
            await publish(envelope, body, cancellationToken);
        }
        catch (Exception e) when (!Failures.IsTransient(e))
        {
            // Kept claimed: tried again alone after this pass.
            refused.Enqueue(new Refused(cron, schedule, tick, envelope, body, e));
            return false;
        }
        catch (Exception e)
        {
            // Not on the broker (or not known to be): give the tick back so the next pass tries it again.
            await store.ReleaseAsync(cron.Canvas, cron.Name, tick, id, CancellationToken.None);
            outage.Failed(e);
            return false;
        }
        await CompleteAsync(cron, schedule, tick, envelope, now);
        return true;
    }

    private async Task<bool> RetryAloneAsync(Refused tick, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (cron, envelope) = (tick.Cron, tick.Envelope);
        try
        {
            if (exchanges is not null && Scheduling.ExchangeCheck.IsNotFound(tick.Refusal)
                && await exchanges.BlameAsync(envelope, cancellationToken) is { } blamed)
                throw blamed;
            await publish(envelope, tick.Body, cancellationToken);
            await CompleteAsync(cron, tick.Schedule, tick.Tick, envelope, now);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var key = (cron.Canvas, cron.Name, tick.Tick);
            var (count, firstFailedAt) = Failures.IsTransient(e) ? (0, now) : tickFailures.Fail(key, now);
            if (count < PoisonGuard.MaxAttempts && e is not PoisonMessageException)
            {
                // The next pass, a second on, tries the tick again.
                await store.ReleaseAsync(cron.Canvas, cron.Name, tick.Tick, envelope.Id, CancellationToken.None);
                if (count == 0) outage.Failed(e);
                return false;
            }
            tickFailures.Forget(key);
            var failure = new PoisonFailure(e, count, firstFailedAt);
            var entry = QuarantineEntry.Event(QuarantineSources.Crons, envelope, tick.Body, failure) with
            {
                Queue = cron
                .Name
            };
            var id = await quarantine.AddAsync(entry, CancellationToken.None);
            // Given up on: the cron moves on to its next tick, as if this one fired.
            await store.CompleteAsync(
                cron.Canvas,
                envelope.CanvasIncarnation,
                cron.Name,
                tick.Tick,
                envelope.Id,
                tick.Schedule.NextAfter(tick.Tick),
                now,
                CancellationToken.None);
            logger.LogWarning(
                "Cron {Canvas}/{Cron} tick {Tick:O} (event {EventId} to {Worker}) was quarantined as item " +
                    "{QuarantineId} after {Attempts} attempts: {Error}",
                cron.Canvas, cron.Name, tick.Tick, envelope.Id, envelope.Worker, id, count, entry.Error);
            return false;
        }
    }

    private async Task CompleteAsync(
        DueCron cron,
        CronSchedule schedule,
        DateTimeOffset tick,
        EventEnvelope envelope,
        DateTimeOffset now)
    {
        tickFailures.Forget((cron.Canvas, cron.Name, tick));
        await store.CompleteAsync(
            cron.Canvas,
            envelope.CanvasIncarnation,
            cron.Name,
            tick,
            envelope.Id,
            schedule.NextAfter(tick),
            now,
            CancellationToken.None);
        outage.Succeeded();
        logger.LogInformation(
            "Cron {Canvas}/{Cron} fired tick {Tick:O} as event {EventId} to {Worker}",
            cron.Canvas,
            cron.Name,
            tick,
            envelope.Id,
            envelope.Worker);
    }

    /// <summary>
    /// A failure outside the publish: an outage is logged as one; the cron's own, on <see
    /// cref="PoisonGuard.MaxAttempts"/> passes, suspends it.
    /// </summary>
    private async Task FailedAsync(DueCron cron, Exception e, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (Failures.IsTransient(e))
        {
            outage.Failed(e);
            return;
        }
        var (count, _) = cronFailures.Fail((cron.Canvas, cron.Name), now);
        if (count < PoisonGuard.MaxAttempts) return;
        cronFailures.Forget((cron.Canvas, cron.Name));
        try
        {
            await SuspendAsync(cron, Failures.Describe(e), count, now, cancellationToken);
        }
        catch (Exception outageError) when (!cancellationToken.IsCancellationRequested)
        {
            outage.Failed(outageError);
        }
    }

    /// <summary>
    /// A cron that cannot be fired at all: quarantined once (its event, which a redrive emits once), and out of firing
    /// (its next run at infinity) until it is put again with a schedule that parses.
    /// </summary>
    private async Task SuspendAsync(
        DueCron cron,
        string why,
        int attempts,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (await store.GetAsync(cron.Canvas, cron.Name, cancellationToken) is not { } record) return;
        var envelope = new EventEnvelope(
            Guid.CreateVersion7(now),
            cron.Canvas,
            record.Worker,
            now,
            Depth: 0,
            NewTraceParent());
        var failure = new PoisonFailure(
            new PoisonMessageException($"Cron {cron.Name} cannot be fired: {why}"),
            attempts,
            now);
        // No event id: no event of this cron exists; a redrive emits this one, under the id its properties carry.
        var quarantined = QuarantineEntry.Event(
            QuarantineSources.Crons,
            envelope,
            Encoding.UTF8.GetBytes(record.Event),
            failure);
        var entry = quarantined with { Queue = cron.Name, EventId = null };
        var id = await quarantine.AddAsync(entry, cancellationToken);
        await store.SuspendAsync(cron.Canvas, cron.Name, cancellationToken);
        logger.LogWarning("Cron {Canvas}/{Cron} stops firing until it is put again, and its event was quarantined as " +
            "item {QuarantineId}: {Why}",
            cron.Canvas, cron.Name, id, why);
    }

    private static string NewTraceParent() => $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";
}
