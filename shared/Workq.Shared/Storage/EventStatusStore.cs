using Dapper;
using Npgsql;
using NpgsqlTypes;
using Workq.Shared.Handlers;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>
/// Each event's latest status (<c>event_status</c>), kept <c>WORKQ_EVENT_STATUS_RETENTION_HOURS</c>; the emitter's
/// <c>queued</c> of whole emit requests (<c>event_emits</c>); and the worker's finished runs
/// (<c>event_finishes</c>), one row per canvas, flush and second their ids were made in rather than one per event. A
/// read folds the three by <see cref="EventStatusUpdate.Supersedes"/>, the rule the upsert follows. Written only in
/// batches (<see cref="EventStatusRecorder"/>), one transaction per flush, which also notifies control's waiters of the
/// canvases it touched.
/// </summary>
public sealed class EventStatusStore(NpgsqlDataSource db) : ICanvasData
{
    /// <summary>
    /// The channel control listens on; the payload is the canvases of the flush, comma-separated (empty: any).
    /// </summary>
    public const string Channel = "workq_event_status";
    private const int MaxPayload = 7_000;
    private static readonly long LastMillisecond = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks)
        / TimeSpan.TicksPerMillisecond - 1;

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "delete from event_status where canvas = @canvas; delete from event_emits where canvas = @canvas; " +
                "delete from event_finishes where canvas = @canvas; " +
                "delete from event_priorities where canvas = @canvas",
            new { canvas },
            cancellationToken);

    public Task UpsertAsync(IReadOnlyCollection<EventStatusUpdate> updates, CancellationToken cancellationToken)
        => WriteAsync(updates, [], cancellationToken);

    public async Task WriteAsync(
        IReadOnlyCollection<EventStatusUpdate> updates,
        IReadOnlyCollection<EmittedEvents> emits,
        CancellationToken cancellationToken)
    {
        if (updates.Count == 0 && emits.Count == 0) return;
        // One transaction, not one per statement, and without waiting for its WAL to reach the disk: a status is a
        // record of what happened to an event, not the event, and a database crash may lose the last fraction of a
        // second of them. It holds the canvases it writes for (one statement), and drops what is for one deleted or
        // re-created since.
        await using var batch = await FencedBatch.CanvasesAsync(
            db,
            updates.Select(u => u.Canvas).Concat(emits.Select(e => e.Canvas)),
            cancellationToken);
        var admitted = updates.Where(u => batch.Admits(u.Canvas, u.CanvasIncarnation)).ToList();
        emits = emits.Where(e => batch.Admits(e.Canvas, e.CanvasIncarnation)).ToList();
        if (admitted.Count == 0 && emits.Count == 0) return;
        var canvases = string.Join(
            ',',
            admitted.Select(u => u.Canvas).Concat(emits.Select(e => e.Canvas)).Distinct(StringComparer.Ordinal));
        // Most statuses a worker writes are finished runs (no restart): many events to a row. The others need the
        // upsert's rule against what is stored.
        var finished = admitted.Where(IsFinishedRun).ToList();
        var rows = admitted.Where(u => !IsFinishedRun(u)).ToList();
        var (connection, transaction) = (batch.Connection, batch.Transaction);
        // A restart (a redrive) drops the dead letter (or quarantined) first, so the insert below takes its place. Only
        // one made before it: the redriven run may already have written its own status, or been dead-lettered again,
        // which the restart must not overwrite.
        var restarts = rows.Any(u => u.RestartedAt is not null) ? """
            delete from event_status s using unnest(@canvases, @ids, @restarts) as r(canvas, id, restarted_at)
             where r.restarted_at >= s.finished_at and s.canvas = r.canvas and s.id = r.id and s.rank >= 40;
            """ : "";
        // An emit request's events in one row: their ids and workers are sent flat, each request its slice.
        var emitted = emits.Count == 0 ? "" : """
            insert into event_emits (canvas, enqueued_at, ids, workers)
            select e.canvas, e.enqueued_at, @emitIds[e.first:e.first + e.count - 1], @emitWorkers[e.first:e.first +
                e.count - 1]
              from unnest(@emitCanvases, @emitEnqueued, @emitFirsts, @emitCounts) as e(canvas, enqueued_at, first,
                  count);
            """;
        // Finished runs the same way, a row per canvas and second of their ids; each result checked to be JSON, as the
        // row's json column checks its own.
        var finishes = finished.Count == 0 ? "" : """
            insert into event_finishes (canvas, id_second, ids, workers, statuses, attempts, enqueued_at, started_at,
                finished_at, results, errors)
            select f.canvas, f.id_second, @fids[f.first:f.last], @fworkers[f.first:f.last], @fstatuses[f.first:f.last],
                @fattempts[f.first:f.last], @fenqueued[f.first:f.last], @fstarted[f.first:f.last],
                @ffinished[f.first:f.last], @fresults[f.first:f.last]::json[]::text[], @ferrors[f.first:f.last]
              from unnest(@fcanvases, @fseconds, @ffirsts, @flasts) as f(canvas, id_second, first, last);
            """;
        var upsert = rows.Count == 0 ? "" : """
            insert into event_status as s (canvas, id, worker, status, rank, attempts, enqueued_at, run_at, started_at,
                finished_at, result, error, restarted_at, updated_at)
            select u.canvas, u.id, u.worker, u.status, u.rank, u.attempts, u.enqueued_at, u.run_at, u.started_at,
                u.finished_at, u.result::json, u.error, u.restarted_at, now()
              from unnest(@canvases, @ids, @workers, @statuses, @ranks, @attempts, @enqueued, @runAt, @started,
                  @finished, @results, @errors, @restarts)
                   as u(canvas, id, worker, status, rank, attempts, enqueued_at, run_at, started_at, finished_at,
                       result, error, restarted_at)
                on conflict (canvas, id) do update
               set worker = excluded.worker, status = excluded.status, rank = excluded.rank, attempts =
                   excluded.attempts,
                   run_at = coalesce(excluded.run_at, s.run_at),
                   started_at = coalesce(excluded.started_at, s.started_at), finished_at = excluded.finished_at,
                   result = excluded.result, error = excluded.error,
                   restarted_at = coalesce(excluded.restarted_at, s.restarted_at), updated_at = now()
             where (s.rank >= 40 and (excluded.started_at > s.finished_at or excluded.rank > s.rank))
                or (excluded.rank >= 40 and s.rank < 40 and coalesce(excluded.finished_at >= s.started_at, true))
                or (s.rank < 30 and excluded.rank = 30)
                or (s.rank < 30 and excluded.rank < 30 and (excluded.attempts, excluded.rank) > (s.attempts, s.rank));
            """;
        var prioritized = admitted.Where(u => u.Priority != Handlers.Messaging.Priority.Normal)
            .Select(u => (u.Canvas, u.Id, u.Priority))
            .Concat(emits.SelectMany(e => (e.Prioritized ?? []).Select(p => (e.Canvas, p.Id, p.Priority))))
            .ToList();
        var priorities = prioritized.Count == 0 ? "" : """
            insert into event_priorities (canvas, id, priority)
            select * from unnest(@pcanvases, @pids, @ppriorities) on conflict do nothing;
            """;
        await using var command = new NpgsqlCommand(
            "set local synchronous_commit = off;" + restarts + emitted + finishes + upsert + priorities +
                "select pg_notify(@channel, @payload);",
            connection,
            transaction);
        if (prioritized.Count > 0)
        {
            command.Parameters.Add(Array("pcanvases", NpgsqlDbType.Text, prioritized.Select(p => p.Canvas)));
            command.Parameters.Add(Array("pids", NpgsqlDbType.Uuid, prioritized.Select(p => p.Id)));
            command.Parameters.Add(Array("ppriorities", NpgsqlDbType.Smallint,
                prioritized.Select(p => (short)p.Priority)));
        }
        if (rows.Count > 0)
        {
            AddRuns(command, "", rows);
            command.Parameters.Add(Array("canvases", NpgsqlDbType.Text, rows.Select(u => u.Canvas)));
            command.Parameters.Add(Array("ranks", NpgsqlDbType.Smallint, rows.Select(u => u.Rank)));
            command.Parameters.Add(Array("runAt", NpgsqlDbType.TimestampTz, rows.Select(u => u.RunAt?.UtcDateTime)));
            command.Parameters
                .Add(Array("restarts", NpgsqlDbType.TimestampTz, rows.Select(u => u.RestartedAt?.UtcDateTime)));
        }
        if (finished.Count > 0) AddFinishes(command, finished);
        if (emits.Count > 0)
        {
            var firsts = new int[emits.Count];
            var next = 1;
            var i = 0;
            foreach (var emit in emits)
            {
                firsts[i++] = next;
                next += emit.Ids.Length;
            }
            command.Parameters.Add(Array("emitCanvases", NpgsqlDbType.Text, emits.Select(e => e.Canvas)));
            command.Parameters
                .Add(Array("emitEnqueued", NpgsqlDbType.TimestampTz, emits.Select(e => e.EnqueuedAt.UtcDateTime)));
            command.Parameters.Add(Array("emitFirsts", NpgsqlDbType.Integer, firsts));
            command.Parameters.Add(Array("emitCounts", NpgsqlDbType.Integer, emits.Select(e => e.Ids.Length)));
            command.Parameters.Add(Array("emitIds", NpgsqlDbType.Uuid, emits.SelectMany(e => e.Ids)));
            command.Parameters.Add(Array("emitWorkers", NpgsqlDbType.Text, emits.SelectMany(e => e.Workers)));
        }
        command.Parameters.AddWithValue("channel", Channel);
        command.Parameters.AddWithValue("payload", canvases.Length > MaxPayload ? "" : canvases);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// A run's end as the worker writes it: final, and no restart. Stored in <c>event_finishes</c>, where nothing
    /// replaces it; a read sets it against the event's row by the upsert's rule.
    /// </summary>
    private static bool IsFinishedRun(EventStatusUpdate update)
        => update.Rank == EventStatuses.FinishedRank && update.RestartedAt is null;

    /// <summary>
    /// The finished runs, flat, each canvas and second of their ids a slice (<c>first</c> to <c>last</c>, 1-based).
    /// </summary>
    private static void AddFinishes(NpgsqlCommand command, List<EventStatusUpdate> finished)
    {
        var groups = finished.GroupBy(u => (u.Canvas, Second: IdSecond(u.Id))).ToList();
        var ordered = groups.SelectMany(g => g).ToList();
        var (firsts, lasts) = (new int[groups.Count], new int[groups.Count]);
        for (int g = 0, next = 1; g < groups.Count; next += groups[g].Count(), g++)
            (firsts[g], lasts[g]) = (next, next + groups[g].Count() - 1);
        command.Parameters.Add(Array("fcanvases", NpgsqlDbType.Text, groups.Select(g => g.Key.Canvas)));
        command.Parameters.Add(Array("fseconds", NpgsqlDbType.TimestampTz, groups.Select(g => g.Key.Second)));
        command.Parameters.Add(Array("ffirsts", NpgsqlDbType.Integer, firsts));
        command.Parameters.Add(Array("flasts", NpgsqlDbType.Integer, lasts));
        AddRuns(command, "f", ordered);
    }

    /// <summary>
    /// The columns an event's row and a finished run share, one array each, named <paramref name="prefix"/> + column.
    /// </summary>
    private static void AddRuns(NpgsqlCommand command, string prefix, List<EventStatusUpdate> updates)
    {
        void Add<T>(string name, NpgsqlDbType type, Func<EventStatusUpdate, T> value)
            => command.Parameters.Add(Array(prefix + name, type, updates.Select(value)));
        Add("ids", NpgsqlDbType.Uuid, u => u.Id);
        Add("workers", NpgsqlDbType.Text, u => u.Worker);
        Add("statuses", NpgsqlDbType.Text, u => u.Status);
        Add("attempts", NpgsqlDbType.Integer, u => u.Attempts);
        Add("enqueued", NpgsqlDbType.TimestampTz, u => u.EnqueuedAt.UtcDateTime);
        Add("started", NpgsqlDbType.TimestampTz, u => u.StartedAt?.UtcDateTime);
        Add("finished", NpgsqlDbType.TimestampTz, u => u.FinishedAt?.UtcDateTime);
        // Handler output, stored by the tenant-text rule; a result is one JSON value already (RunStatus).
        Add("results", NpgsqlDbType.Text, u => TenantText.Store(u.Result));
        Add("errors", NpgsqlDbType.Text, u => TenantText.Store(u.Error));
    }

    /// <summary>
    /// The second an event's id was made in (its version-7 millisecond; any other id, some second all the same): where
    /// its finished runs are filed, and found.
    /// </summary>
    private static DateTime IdSecond(Guid id)
    {
        var from = EmittedWithin(id).From;
        return from.AddTicks(-(from.Ticks % TimeSpan.TicksPerSecond));
    }

    /// <summary>
    /// An un-enqueue. A delayed event whose row it removed (<paramref name="removedEnqueuedAt"/>: that row's enqueued
    /// time) can never run: it is cancelled for good, a final state that its emit's own <c>scheduled</c>, landing
    /// later, does not change. Otherwise a queued event is cancelled at once (a waiter wakes), though a run that
    /// already started wins, and one not written yet becomes cancelled when its worker reaches it. Nothing is written
    /// for a canvas deleted or re-created since (<paramref name="canvasIncarnation"/>).
    /// </summary>
    public Task CancelAsync(
        string canvas,
        long canvasIncarnation,
        string worker,
        Guid id,
        DateTimeOffset? removedEnqueuedAt,
        CancellationToken cancellationToken) =>
        CancelManyAsync(canvas, canvasIncarnation, [(id, worker, removedEnqueuedAt)], cancellationToken);

    /// <summary>
    /// Un-enqueues many events of one canvas at once (a cancelled batch's), each as <see cref="CancelAsync"/>.
    /// </summary>
    public async Task CancelManyAsync(
        string canvas,
        long canvasIncarnation,
        IReadOnlyList<(Guid Id, string Worker, DateTimeOffset? RemovedEnqueuedAt)> events,
        CancellationToken cancellationToken)
    {
        if (events.Count == 0) return;
        await using var batch = await FencedBatch.CanvasesAsync(db, [canvas], cancellationToken);
        if (!batch.Admits(canvas, canvasIncarnation)) return;
        var queued = events.Where(e => e.RemovedEnqueuedAt is null).ToList();
        var removed = events.Where(e => e.RemovedEnqueuedAt is not null).ToList();
        // An event known only from its emit request gets its own row, cancelled: found in the requests of its id's
        // millisecond.
        await batch.Connection.ExecuteAsync(new CommandDefinition("""
            update event_status set status = @status, rank = @rank, finished_at = now(), updated_at = now()
             where canvas = @canvas and id = any(@queued) and rank < @rank;
            insert into event_status (canvas, id, worker, status, rank, attempts, enqueued_at, finished_at, updated_at)
            select distinct on (e.id) b.canvas, e.id, e.worker, @status, @rank, 1, b.enqueued_at, now(), now()
              from unnest(@queued, @froms, @tos) as q(id, from_at, to_at)
              join event_emits b on b.canvas = @canvas and b.enqueued_at >= q.from_at and b.enqueued_at < q.to_at
              cross join lateral unnest(b.ids, b.workers) as e(id, worker)
             where e.id = q.id
                on conflict (canvas, id) do nothing;
            insert into event_status as s (canvas, id, worker, status, rank, attempts, enqueued_at, finished_at,
                updated_at)
            select @canvas, r.id, r.worker, @status, @final, 1, r.enqueued_at, now(), now()
              from unnest(@removed, @removedWorkers, @removedAts) as r(id, worker, enqueued_at)
                on conflict (canvas, id) do update set status = excluded.status, rank = excluded.rank, finished_at =
                    excluded.finished_at, updated_at = now()
             where s.rank < @final;
            select pg_notify(@channel, @canvas);
            """, new
        {
            canvas,
            queued = queued.ConvertAll(e => e.Id).ToArray(),
            froms = queued.ConvertAll(e => EmittedWithin(e.Id).From).ToArray(),
            tos = queued.ConvertAll(e => EmittedWithin(e.Id).To).ToArray(),
            removed = removed.ConvertAll(e => e.Id).ToArray(),
            removedWorkers = removed.ConvertAll(e => e.Worker).ToArray(),
            removedAts = removed.ConvertAll(e => e.RemovedEnqueuedAt!.Value.UtcDateTime).ToArray(),
            status = EventStatuses.Cancelled,
            rank = EventStatuses.CancelRequestRank,
            final = EventStatuses.FinishedRank,
            channel = Channel,
        }, batch.Transaction, cancellationToken: cancellationToken));
        await batch.CommitAsync(cancellationToken);
    }

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, IEnumerable<T> values) =>
        new(name, NpgsqlDbType.Array | type) { Value = values as T[] ?? values.ToArray() };

    /// <summary>
    /// The millisecond a version-7 id was made in: an emit request's events were enqueued within it (any other id finds
    /// no request).
    /// </summary>
    private static (DateTime From, DateTime To) EmittedWithin(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        var milliseconds = 0L;
        for (var i = 0; i < 6; i++) milliseconds = (milliseconds << 8) | bytes[i];
        // The first 48 bits of another kind of id can be past the year 9999.
        var from = DateTime.UnixEpoch.AddMilliseconds(Math.Min(milliseconds, LastMillisecond));
        return (from, from.AddMilliseconds(1));
    }

    public async Task<EventStatusRow?> FindAsync(string canvas, Guid id, CancellationToken cancellationToken) =>
        (await FindManyAsync(canvas, [id], cancellationToken)).GetValueOrDefault(id);

    /// <summary>
    /// The statuses of these events of the canvas, each read as <see cref="FindAsync"/> reads one; an unknown id is
    /// absent.
    /// </summary>
    public async Task<Dictionary<Guid, EventStatusRow>> FindManyAsync(
        string canvas,
        IReadOnlyList<Guid> ids,
        CancellationToken cancellationToken)
    {
        if (ids.Count == 0) return [];
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // Each event's own row and its finished runs, or else its emit request's queued; and a durable event's resume.
        var found = (await connection.QueryAsync<StoredStatus>(new CommandDefinition("""
            select q.id, 0 as Source, s.worker, s.status, s.rank, s.attempts, s.enqueued_at as EnqueuedAt,
                s.run_at as RunAt, s.started_at as StartedAt, s.finished_at as FinishedAt, s.result::text as Result,
                s.error, s.restarted_at as RestartedAt, null as WaitingFor
              from unnest(@ids) as q(id) join event_status s on s.canvas = @canvas and s.id = q.id
            union all
            select q.id, 1, e.worker, e.status, @finishedRank, e.attempts, e.enqueued_at, null, e.started_at,
                e.finished_at, e.result, e.error, null, null
              from unnest(@ids, @seconds) as q(id, second)
              join event_finishes f on f.canvas = @canvas and f.id_second = q.second and q.id = any(f.ids)
              cross join lateral unnest(f.ids, f.workers, f.statuses, f.attempts, f.enqueued_at, f.started_at,
                  f.finished_at, f.results, f.errors)
                   as e(id, worker, status, attempts, enqueued_at, started_at, finished_at, result, error)
             where e.id = q.id
            union all
            select q.id, 2, e.worker, @queued, @queuedRank, 1, b.enqueued_at, null, null, null, null, null, null, null
              from unnest(@ids, @froms, @tos) as q(id, from_at, to_at)
              join event_emits b on b.canvas = @canvas and b.enqueued_at >= q.from_at and b.enqueued_at < q.to_at
              cross join lateral unnest(b.ids, b.workers) as e(id, worker)
             where e.id = q.id
            union all
            select q.id, 3, r.worker, r.suspended, @runningRank, 1, r.enqueued_at, r.run_at, null, null, null, null,
                null, r.wait_name
              from unnest(@ids) as q(id) join scheduled_events r on r.event_id = q.id and r.canvas = @canvas
             where r.suspended is not null
            """, new
        {
            canvas,
            ids = ids.ToArray(),
            seconds = ids.Select(IdSecond).ToArray(),
            froms = ids.Select(id => EmittedWithin(id).From).ToArray(),
            tos = ids.Select(id => EmittedWithin(id).To).ToArray(),
            queued = EventStatuses.Queued,
            queuedRank = EventStatuses.QueuedRank,
            finishedRank = EventStatuses.FinishedRank,
            runningRank = EventStatuses.RunningRank,
        }, cancellationToken: cancellationToken))).ToList();
        var rows = new Dictionary<Guid, EventStatusRow>();
        foreach (var stored in found.GroupBy(s => s.Id))
        {
            var resume = stored.FirstOrDefault(s => s.Source == 3);
            if (Latest(canvas, stored.Key, stored.ToList()) is { } latest)
                rows[stored.Key] = Suspended(latest, resume) ?? new EventStatusRow(stored.Key, latest.Worker,
                    latest.Status, latest.Attempts, latest.EnqueuedAt, latest.RunAt, latest.StartedAt,
                    latest.FinishedAt, latest.Result, latest.Error);
            // Asleep for longer than statuses are kept: its resume still says what it is.
            else if (resume is not null)
                rows[stored.Key] = new EventStatusRow(stored.Key, resume.Worker, resume.Status, 1,
                    UnhandledStore.Utc(resume.EnqueuedAt), Utc(resume.RunAt), null, null, null, null,
                    resume.WaitingFor);
        }
        if (rows.Count > 0) await AnnotateAsync(connection, canvas, rows, cancellationToken);
        return rows;
    }

    /// <summary>
    /// In one round trip: a debounced run's key, mode and the emits it absorbed (API.md "Debounce"), while its key's
    /// row is kept, a trailing one still scheduled being due when its row says, which each emit of its period moves;
    /// and the priority of the high and low ones (API.md "Priorities"), the others staying normal.
    /// </summary>
    private static async Task AnnotateAsync(
        NpgsqlConnection connection,
        string canvas,
        Dictionary<Guid, EventStatusRow> rows,
        CancellationToken cancellationToken)
    {
        await using var found = await connection.QueryMultipleAsync(new CommandDefinition("""
            select d.event_id, d.debounce_key, d.is_trailing, d.absorbed, r.run_at
              from debounces d left join scheduled_events r on r.event_id = d.event_id and r.canvas = d.canvas
             where d.canvas = @canvas and d.event_id = any(@ids);
            select id, priority from event_priorities where canvas = @canvas and id = any(@ids);
            """, new { canvas, ids = rows.Keys.ToArray() }, cancellationToken: cancellationToken));
        foreach (var d in await found.ReadAsync<(Guid EventId, string Key, bool Trailing, int Absorbed,
            DateTime? RunAt)>())
        {
            var row = rows[d.EventId];
            rows[d.EventId] = row with
            {
                RunAt = row.Status == EventStatuses.Scheduled && d.RunAt is { } due ? Utc(due) : row.RunAt,
                Debounce = new EventDebounce(d.Key, d.Trailing ? Debounces.Trailing : Debounces.Leading, d.Absorbed),
            };
        }
        foreach (var (id, priority) in await found.ReadAsync<(Guid Id, short Priority)>())
            rows[id] = rows[id] with { Priority = (Handlers.Messaging.Priority)priority };
    }

    /// <summary>
    /// A durable event whose run ended in a Sleep or a WaitFor (its resume is stored, not yet published): sleeping or
    /// waiting until the resume's time, over its row's running. A final status (a cancel made as it suspended) wins.
    /// </summary>
    private static EventStatusRow? Suspended(EventStatusUpdate latest, StoredStatus? resume) =>
        resume is null || latest.Rank >= EventStatuses.FinishedRank
            ? null
            : new EventStatusRow(resume.Id, resume.Worker, resume.Status, latest.Attempts, latest.EnqueuedAt,
                UnhandledStore.Utc(resume.RunAt!.Value), latest.StartedAt, null, null, null, resume.WaitingFor);

    /// <summary>
    /// One stored status of an event, as a read finds it (Source: 0 its row, 1 a finished run, 2 its emit, 3 the
    /// resume of a durable event that sleeps or waits).
    /// </summary>
    private sealed record StoredStatus(
        Guid Id,
        int Source,
        string Worker,
        string Status,
        short Rank,
        int Attempts,
        DateTime EnqueuedAt,
        DateTime? RunAt,
        DateTime? StartedAt,
        DateTime? FinishedAt,
        string? Result,
        string? Error,
        DateTime? RestartedAt,
        string? WaitingFor);

    /// <summary>
    /// The status the upsert would have left, had every write gone to one row: the row, and each finished run that
    /// supersedes it (the earliest first, as the first to land wins among finished ones); finished runs from before the
    /// row's restart are a dead letter's past. The emit's queued only when nothing else is known.
    /// </summary>
    private static EventStatusUpdate? Latest(string canvas, Guid id, List<StoredStatus> found)
    {
        EventStatusUpdate Update(StoredStatus s) => new(canvas, id, s.Worker, s.Status, s.Rank, s.Attempts,
            UnhandledStore.Utc(s.EnqueuedAt), Utc(s.RunAt), Utc(s.StartedAt), Utc(s.FinishedAt), s.Result, s.Error,
            Utc(s.RestartedAt));
        found = found.FindAll(s => s.Source != 3);
        var row = found.Find(s => s.Source == 0);
        var latest = row is null ? null : Update(row);
        foreach (var run in found.Where(s => s.Source == 1 && !(s.FinishedAt < row?.RestartedAt))
            .OrderBy(s => s.FinishedAt))
        {
            var finished = Update(run);
            if (latest is null) latest = finished;
            else if (finished.Supersedes(latest)) latest = finished.After(latest);
        }
        return latest ?? (found.Find(s => s.Source == 2) is { } emitted ? Update(emitted) : null);
    }

    /// <summary>Drops the statuses not written for <paramref name="keepFor"/>; returns how many.</summary>
    public async Task<int> PruneAsync(TimeSpan keepFor, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // enqueued_at is never later than updated_at: its BRIN index narrows the scan to the old rows.
        return await connection.ExecuteAsync(new CommandDefinition("""
            delete from event_status
             where enqueued_at < now() - make_interval(secs => @seconds) and updated_at < now() - make_interval(secs =>
                 @seconds);
            delete from event_emits where enqueued_at < now() - make_interval(secs => @seconds);
            delete from event_finishes where written_at < now() - make_interval(secs => @seconds);
            delete from event_priorities where written_at < now() - make_interval(secs => @seconds);
            """,
            new { seconds = keepFor.TotalSeconds }, cancellationToken: cancellationToken));
    }

    private static DateTimeOffset? Utc(DateTime? at) => at is { } value ? UnhandledStore.Utc(value) : null;
}
