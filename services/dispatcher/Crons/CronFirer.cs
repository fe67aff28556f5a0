using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Workq.Shared.Messaging;
using Workq.Shared.Scheduling;
using Workq.Shared.Storage;

namespace Workq.Dispatcher.Crons;

/// <summary>Puts one event on the broker and returns once it is durable; in production <see cref="EventPublisher.PublishAsync"/>.</summary>
public delegate Task PublishEvent(EventEnvelope envelope, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);

/// <summary>
/// Fires the crons that are due: for each, the latest tick at or before now (so after downtime a
/// missed tick fires once, not a burst, and never before its time), claimed in the database so that
/// exactly one of any number of dispatchers publishes it, as an ordinary event: depth 0, a fresh
/// trace, a new id. Crons are read from the database on every call, so a change or delete counts
/// from the next call on.
/// </summary>
public sealed class CronFirer(CronStore store, PublishEvent publish, TimeProvider clock, ILogger<CronFirer> logger)
{
    /// <summary>A claim not published within this long belongs to a dispatcher that died: another may take the tick over.</summary>
    public static readonly TimeSpan StaleClaim = TimeSpan.FromMinutes(1);

    /// <summary>Tick records are kept this long, then cleaned up.</summary>
    public static readonly TimeSpan TickRetention = TimeSpan.FromDays(1);

    private const int MaxPerCall = 1_000;
    private const int Parallelism = 8;

    /// <returns>How many ticks this call published.</returns>
    public async Task<int> FireDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = await store.DueAsync(now, MaxPerCall, cancellationToken);
        var fired = 0;
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (cron, token) =>
        {
            try
            {
                if (await FireAsync(cron, now, token)) Interlocked.Increment(ref fired);
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // One cron's trouble (say, the database blinked) must not hold up the others.
                logger.LogWarning(e, "Firing cron {Canvas}/{Cron} failed; retrying on the next pass", cron.Canvas, cron.Name);
            }
        });
        return fired;
    }

    /// <returns>How many tick records older than <see cref="TickRetention"/> were removed.</returns>
    public Task<int> CleanUpAsync(CancellationToken cancellationToken) =>
        store.DeleteTicksBeforeAsync(clock.GetUtcNow() - TickRetention, cancellationToken);

    private async Task<bool> FireAsync(DueCron cron, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!CronSchedule.TryParse(cron.Schedule, out var schedule, out var error))
        {
            logger.LogWarning("Cron {Canvas}/{Cron} has a schedule that no longer parses: {Error}", cron.Canvas, cron.Name, error);
            return false;
        }
        if (schedule!.LatestDue(cron.NextRun, now) is not { } tick) return false;

        // Microseconds: what PostgreSQL and the message headers keep.
        var enqueuedAt = now.AddTicks(-(now.Ticks % 10));
        var id = Guid.CreateVersion7(enqueuedAt);
        if (await store.ClaimAsync(cron.Canvas, cron.Name, tick, id, now, now - StaleClaim, cancellationToken) is not { } claim) return false;

        // Of the canvas that claimed it: an event that outlives the canvas (published as it is deleted) is dropped by a re-created one.
        var envelope = new EventEnvelope(id, cron.Canvas, claim.Worker, enqueuedAt, Depth: 0, NewTraceParent(), CanvasIncarnation: claim.CanvasIncarnation);
        try
        {
            await publish(envelope, Encoding.UTF8.GetBytes(claim.Event), cancellationToken);
        }
        catch (Exception e)
        {
            // Not on the broker (or not known to be): give the tick back so the next pass tries it again.
            await store.ReleaseAsync(cron.Canvas, cron.Name, tick, id, CancellationToken.None);
            logger.LogWarning(e, "Cron {Canvas}/{Cron} tick {Tick:O} was not published; released for a retry", cron.Canvas, cron.Name, tick);
            return false;
        }
        await store.CompleteAsync(cron.Canvas, claim.CanvasIncarnation, cron.Name, tick, id, schedule.NextAfter(tick), now, CancellationToken.None);
        logger.LogInformation("Cron {Canvas}/{Cron} fired tick {Tick:O} as event {EventId} to {Worker}", cron.Canvas, cron.Name, tick, id, claim.Worker);
        return true;
    }

    private static string NewTraceParent() => $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";
}
