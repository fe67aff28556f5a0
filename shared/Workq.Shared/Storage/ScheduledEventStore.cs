using Dapper;
using Npgsql;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>
/// Delayed emits, from the emitter's 202 until a dispatcher's pump publishes them (docs/DESIGN.md, "Delayed emits").
/// The row is the event's only copy until then: it is deleted only after the broker confirmed the publish.
/// </summary>
public sealed class ScheduledEventStore(NpgsqlDataSource db) : ICanvasData, IWorkerData
{
    /// <summary>The channel an insert notifies, so a sleeping pump looks again at once.</summary>
    public const string Channel = "workq_scheduled";

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync("delete from scheduled_events where canvas = @canvas", new { canvas }, cancellationToken);

    public Task DeleteWorkerAsync(string canvas, string worker, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "delete from scheduled_events where canvas = @canvas and worker = @worker",
            new { canvas, worker },
            cancellationToken);

    /// <summary>
    /// Stores the events of one request in one round trip, all or none: none when that would put a worker past
    /// <paramref name="maxPerWorker"/> (that worker is thrown as <see cref="ScheduledFullException"/>), none when the
    /// canvas was deleted or re-created since <paramref name="canvasIncarnation"/> (<see cref="CanvasGoneException"/>).
    /// An id already stored is kept as it is. The count and insert are one statement, so concurrent requests may
    /// overshoot the limit by what they insert together.
    /// </summary>
    public async Task ScheduleAsync(
        string canvas,
        long canvasIncarnation,
        IReadOnlyList<ScheduledEvent> events,
        int maxPerWorker,
        CancellationToken cancellationToken)
    {
        if (events.Count == 0) return;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var (over, alive) = await connection.QuerySingleAsync<(string? Over, bool Alive)>(new CommandDefinition($"""
            with {FencedBatch.AliveCanvas("canvas", "canvasIncarnation")},
            new as (
                select * from unnest(@ids, @workers, @enqueuedAts, @runAts, @depths, @traceParents, @bodies,
                    @orderingKeys, @batchIds, @priorities)
                    as n(event_id, worker, enqueued_at, run_at, depth, trace_parent, body, ordering_key, batch_id,
                        priority)),
            over as (
                select n.worker from (select worker, count(*) as adding from new group by worker) n
                 where n.adding + (select count(*) from scheduled_events s where s.canvas = @canvas and s.worker =
                     n.worker) > @maxPerWorker
                 limit 1),
            inserted as (
                insert into scheduled_events (event_id, canvas, worker, enqueued_at, run_at, depth, trace_parent, body,
                    ordering_key, batch_id, priority)
                select event_id, @canvas, worker, enqueued_at, run_at, depth, trace_parent, body, ordering_key,
                    batch_id, priority from new
                 where not exists (select 1 from over) and exists (select 1 from alive)
                on conflict (event_id) do nothing
                returning 1)
            -- Delivered at commit: a pump sleeping towards a later event wakes for this one.
            select (select worker from over), exists (select 1 from alive)
              from (select count(*) from (select pg_notify('{Channel}', '') from inserted limit 1) notify) notified
            """, new
        {
            canvas,
            canvasIncarnation,
            ids = events.Select(e => e.Envelope.Id).ToArray(),
            workers = events.Select(e => e.Envelope.Worker).ToArray(),
            enqueuedAts = events.Select(e => e.Envelope.EnqueuedAt.UtcDateTime).ToArray(),
            runAts = events.Select(e => e.RunAt.UtcDateTime).ToArray(),
            depths = events.Select(e => e.Envelope.Depth).ToArray(),
            traceParents = events.Select(e => e.Envelope.TraceParent).ToArray(),
            bodies = events.Select(e => e.Body.ToArray()).ToArray(),
            orderingKeys = events.Select(e => e.Envelope.OrderingKey).ToArray(),
            batchIds = events.Select(e => e.Envelope.BatchId).ToArray(),
            priorities = events.Select(e => (short)e.Envelope.Priority).ToArray(),
            maxPerWorker,
        }, cancellationToken: cancellationToken));
        if (!alive) throw new CanvasGoneException(canvas);
        if (over is not null) throw new ScheduledFullException(canvas, over, maxPerWorker);
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> events due at <paramref name="now"/> (rows other pumps hold are skipped),
    /// hands them to <paramref name="publish"/>, and settles each as it says, in the claim's transaction: a published
    /// one is deleted, one to try again gets its new time, and one given up on moves to the quarantine (so it is in
    /// exactly one of the two tables). A crash before the commit leaves the rows to be claimed again: the event may be
    /// published twice, with the same id.
    /// </summary>
    /// <returns>How many events were claimed, and those quarantined with their quarantine ids.</returns>
    public async Task<(int Claimed, IReadOnlyList<(QuarantineEntry Entry, long Id)> Quarantined)> PumpAsync(
        DateTimeOffset now,
        int limit,
        Func<IReadOnlyList<ScheduledEvent>, Task<PumpOutcome>> publish,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // A canvas being deleted is skipped: its deletion deletes these rows. Its rows are never another incarnation's
        // (an insert holds the canvas alive, and the deletion removes them all), so the canvas's incarnation now is the
        // events'. A row whose canvas does not exist at all (none but a hand in the database makes one) is taken: its
        // publish fails, and it is quarantined.
        var rows = (await connection.QueryAsync<(Guid EventId, string Canvas, string Worker, DateTime EnqueuedAt,
            DateTime RunAt, int Depth, string? TraceParent, byte[] Body,
            string? OrderingKey, long Incarnation, Guid? BatchId, Guid? CallbackOf, int Resume, string? DebounceKey,
            int Absorbed, short Priority)>(
            new CommandDefinition("""
                select s.event_id, s.canvas, s.worker, s.enqueued_at, s.run_at, s.depth, s.trace_parent, s.body,
                    s.ordering_key, coalesce(c.incarnation, 0), s.batch_id, s.callback_of, s.resume, s.debounce_key,
                    s.absorbed, s.priority
                  from scheduled_events s left join canvases c on c.name = s.canvas
                 where s.run_at <= @now and not coalesce(c.deleting, false) order by s.run_at, s.seq limit @limit for
                     update of s skip locked
                """, new
            {
                now = now
            .UtcDateTime,
                limit
            }, transaction, cancellationToken: cancellationToken))).AsList();
        if (rows.Count == 0) return (0, []);
        var due = rows.ConvertAll(r => new ScheduledEvent(
            new EventEnvelope(
                r.EventId,
                r.Canvas,
                r.Worker,
                UnhandledStore.Utc(r.EnqueuedAt),
                r.Depth,
                r.TraceParent,
                r.OrderingKey,
                r.Incarnation,
                BatchId: r.BatchId,
                CallbackOf: r.CallbackOf,
                Resume: r.Resume,
                DebounceKey: r.DebounceKey,
                Absorbed: r.Absorbed,
                Priority: (Handlers.Messaging.Priority)r.Priority),
            UnhandledStore.Utc(r.RunAt), r.Body));
        var outcome = await publish(due);
        await connection.ExecuteAsync(new CommandDefinition("""
            delete from scheduled_events where event_id = any(@published);
            update scheduled_events s set run_at = l.run_at from unnest(@later, @laterAt) as l(event_id, run_at) where
                s.event_id = l.event_id;
            """, new
        {
            published = outcome.Published.ToArray(),
            later = outcome.Later.Select(l => l.Id).ToArray(),
            laterAt = outcome.Later.Select(l => l.At.UtcDateTime).ToArray(),
        }, transaction, cancellationToken: CancellationToken.None));
        var quarantined = new List<(QuarantineEntry, long)>(outcome.Quarantined.Count);
        foreach (var entry in outcome.Quarantined)
        {
            quarantined.Add(
                (entry, await QuarantineStore.AddAsync(entry, connection, transaction, CancellationToken.None)));
            await connection.ExecuteAsync(new CommandDefinition(
                "delete from scheduled_events where event_id = @id",
                new { id = entry.EventId },
                transaction,
                cancellationToken: CancellationToken.None));
        }
        await transaction.CommitAsync(CancellationToken.None);
        return (rows.Count, quarantined);
    }

    /// <summary>
    /// When the earliest event is due; null when none waits (those of a canvas being deleted do not).
    /// </summary>
    public async Task<DateTimeOffset?> NextRunAtAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var next = await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "select min(s.run_at) from scheduled_events s join canvases c on c.name = s.canvas and not c.deleting",
                cancellationToken: cancellationToken));
        return next is { } at ? UnhandledStore.Utc(at) : null;
    }

    /// <summary>
    /// Un-enqueues a scheduled event: the removed event's enqueued time and batch, or null when the worker has none
    /// with that id (maybe already published: a pump publishing it holds its row, so this waits and then finds
    /// nothing).
    /// </summary>
    public async Task<(DateTimeOffset EnqueuedAt, Guid? BatchId)?> DeleteAsync(
        string canvas,
        string worker,
        Guid eventId,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var deleted = await connection.QuerySingleOrDefaultAsync<(DateTime EnqueuedAt, Guid? BatchId)?>(
            new CommandDefinition(
                "delete from scheduled_events where event_id = @eventId and canvas = @canvas and worker = @worker " +
                    "returning enqueued_at, batch_id",
                new { canvas, worker, eventId }, cancellationToken: cancellationToken));
        return deleted is { } row ? (UnhandledStore.Utc(row.EnqueuedAt), row.BatchId) : null;
    }

    /// <summary>
    /// Purges a worker's delayed events; returns how many there were. Sleeping and waiting events are not queued: they
    /// stay (a cancel ends one).
    /// </summary>
    public async Task<int> PurgeAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "delete from scheduled_events where canvas = @canvas and worker = @worker and suspended is null",
            new { canvas, worker }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The events waiting per worker of these, in one query: delayed, sleeping and waiting (API.md "Durable handlers");
    /// a worker with none is absent.
    /// </summary>
    public async Task<IReadOnlyDictionary<(string Canvas, string Worker), ScheduledCounts>> CountAsync(
        IReadOnlyList<(string Canvas, string Worker)> workers,
        CancellationToken cancellationToken)
    {
        if (workers.Count == 0) return new Dictionary<(string, string), ScheduledCounts>();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Canvas, string Worker, long Delayed, long Sleeping,
            long Waiting)>(new CommandDefinition("""
            select s.canvas, s.worker, count(*) filter (where s.suspended is null),
                   count(*) filter (where s.suspended = 'sleeping'), count(*) filter (where s.suspended = 'waiting')
              from scheduled_events s
              join unnest(@canvases, @workers) as w(canvas, worker) on s.canvas = w.canvas and s.worker = w.worker
             group by s.canvas, s.worker
            """, new
            {
                canvases = workers.Select(w => w.Canvas).ToArray(),
                workers = workers.Select(w => w.Worker)
            .ToArray()
            }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => (r.Canvas, r.Worker), r => new ScheduledCounts(r.Delayed, r.Sleeping, r.Waiting));
    }
}
