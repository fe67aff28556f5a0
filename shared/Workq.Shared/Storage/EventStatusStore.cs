using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Workq.Shared.Storage;

/// <summary>The states of API.md's event status, with the order a write must follow to replace another (see <see cref="EventStatusUpdate.Supersedes"/>).</summary>
public static class EventStatuses
{
    public const string Scheduled = "scheduled", Queued = "queued", Running = "running", Completed = "completed", Failed = "failed",
        TimedOut = "timedOut", Cancelled = "cancelled", DeadLettered = "deadLettered";

    /// <summary>Ranks: scheduled 5, queued 10, cancelled by control 15 (a run that had already started still wins), running 20, finished 30, dead-lettered 40.</summary>
    public const short ScheduledRank = 5, QueuedRank = 10, CancelRequestRank = 15, RunningRank = 20, FinishedRank = 30, DeadLetteredRank = 40;

    public static bool IsFinal(string status) => status is not (Scheduled or Queued or Running);
}

/// <summary>
/// One write of an event's status. <c>Restart</c> (a redrive) replaces a dead letter; otherwise a write replaces the
/// stored one only if it is further along, so writes that arrive out of order never move an event backwards.
/// </summary>
public sealed record EventStatusUpdate(string Canvas, Guid Id, string Worker, string Status, short Rank, int Attempts, DateTimeOffset EnqueuedAt,
    DateTimeOffset? RunAt = null, DateTimeOffset? StartedAt = null, DateTimeOffset? FinishedAt = null, string? Result = null, string? Error = null, bool Restart = false)
{
    public static EventStatusUpdate Queued(string canvas, Guid id, string worker, DateTimeOffset enqueuedAt, int attempts = 1, bool restart = false, string? error = null) =>
        new(canvas, id, worker, EventStatuses.Queued, EventStatuses.QueuedRank, attempts, enqueuedAt, Error: error, Restart: restart);

    public static EventStatusUpdate Scheduled(string canvas, Guid id, string worker, DateTimeOffset enqueuedAt, DateTimeOffset runAt) =>
        new(canvas, id, worker, EventStatuses.Scheduled, EventStatuses.ScheduledRank, 1, enqueuedAt, RunAt: runAt);

    public static EventStatusUpdate DeadLettered(string canvas, Guid id, string worker, int attempts, DateTimeOffset enqueuedAt, string reason) =>
        new(canvas, id, worker, EventStatuses.DeadLettered, EventStatuses.DeadLetteredRank, attempts, enqueuedAt, FinishedAt: DateTimeOffset.UtcNow, Error: reason);

    /// <summary>
    /// The same rule as the store's upsert: a dead letter beats anything else and is replaced only by its redrive (the
    /// restart, or a run that started after it was dead-lettered, whichever lands first); a finished state is final;
    /// before that, the later attempt wins and, within an attempt, the higher rank.
    /// </summary>
    public bool Supersedes(EventStatusUpdate old) =>
        (old.Rank == EventStatuses.DeadLetteredRank && (Restart || StartedAt > old.FinishedAt))
        || (Rank == EventStatuses.DeadLetteredRank && old.Rank < EventStatuses.DeadLetteredRank)
        || (old.Rank < EventStatuses.FinishedRank && (Attempts > old.Attempts || (Attempts == old.Attempts && Rank > old.Rank)));

    /// <summary>What a later write leaves of an earlier one it replaced: the start time, when it does not know it.</summary>
    public EventStatusUpdate After(EventStatusUpdate old) =>
        StartedAt is null && old.StartedAt is not null && !Restart ? this with { StartedAt = old.StartedAt } : this;
}

/// <summary>The event status of API.md, as stored.</summary>
public sealed record EventStatusRow(Guid Id, string Worker, string Status, int Attempts, DateTimeOffset EnqueuedAt, DateTimeOffset? RunAt,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Result, string? Error);

/// <summary>
/// Each event's latest status (<c>event_status</c>), kept <c>WORKQ_EVENT_STATUS_HOURS</c>. Written only in batches
/// (<see cref="EventStatusRecorder"/>), one upsert per flush, which also notifies control's waiters of the canvases it touched.
/// </summary>
public sealed class EventStatusStore(NpgsqlDataSource db) : ICanvasData
{
    /// <summary>The channel control listens on; the payload is the canvases of the flush, comma-separated (empty: any).</summary>
    public const string Channel = "workq_event_status";
    private const int MaxPayload = 7_000;

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync("delete from event_status where canvas = @canvas", new { canvas }, cancellationToken);

    public async Task UpsertAsync(IReadOnlyCollection<EventStatusUpdate> updates, CancellationToken cancellationToken)
    {
        if (updates.Count == 0) return;
        var canvases = string.Join(',', updates.Select(u => u.Canvas).Distinct(StringComparer.Ordinal));
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // One transaction, not one per statement, and without waiting for its WAL to reach the disk: a status is a record of
        // what happened to an event, not the event, and a database crash may lose the last fraction of a second of them.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var rows = updates as IList<EventStatusUpdate> ?? updates.ToList();
        // A restart (a redrive) drops the dead letter first, so the insert below takes its place. Only a dead letter:
        // the redriven run may already have written its own status, which the restart must not overwrite.
        var restarts = rows.Any(u => u.Restart) ? """
            delete from event_status s using unnest(@canvases, @ids, @restarts) as r(canvas, id, restart)
             where r.restart and s.canvas = r.canvas and s.id = r.id and s.rank = 40;
            """ : "";
        await using var command = new NpgsqlCommand("set local synchronous_commit = off;" + restarts + """
            insert into event_status as s (canvas, id, worker, status, rank, attempts, enqueued_at, run_at, started_at, finished_at, result, error, updated_at)
            select u.canvas, u.id, u.worker, u.status, u.rank, u.attempts, u.enqueued_at, u.run_at, u.started_at, u.finished_at, u.result::json, u.error, now()
              from unnest(@canvases, @ids, @workers, @statuses, @ranks, @attempts, @enqueued, @runAt, @started, @finished, @results, @errors)
                   as u(canvas, id, worker, status, rank, attempts, enqueued_at, run_at, started_at, finished_at, result, error)
                on conflict (canvas, id) do update
               set worker = excluded.worker, status = excluded.status, rank = excluded.rank, attempts = excluded.attempts,
                   run_at = coalesce(excluded.run_at, s.run_at),
                   started_at = coalesce(excluded.started_at, s.started_at), finished_at = excluded.finished_at,
                   result = excluded.result, error = excluded.error, updated_at = now()
             where (excluded.rank = 40 and s.rank < 40)
                or (s.rank = 40 and excluded.started_at > s.finished_at)
                or (s.rank < 30 and (excluded.attempts, excluded.rank) > (s.attempts, s.rank));
            select pg_notify(@channel, @payload);
            """, connection, transaction);
        command.Parameters.Add(Array("canvases", NpgsqlDbType.Text, rows.Select(u => u.Canvas)));
        command.Parameters.Add(Array("ids", NpgsqlDbType.Uuid, rows.Select(u => u.Id)));
        command.Parameters.Add(Array("workers", NpgsqlDbType.Text, rows.Select(u => u.Worker)));
        command.Parameters.Add(Array("statuses", NpgsqlDbType.Text, rows.Select(u => u.Status)));
        command.Parameters.Add(Array("ranks", NpgsqlDbType.Smallint, rows.Select(u => u.Rank)));
        command.Parameters.Add(Array("attempts", NpgsqlDbType.Integer, rows.Select(u => u.Attempts)));
        command.Parameters.Add(Array("enqueued", NpgsqlDbType.TimestampTz, rows.Select(u => u.EnqueuedAt.UtcDateTime)));
        command.Parameters.Add(Array("runAt", NpgsqlDbType.TimestampTz, rows.Select(u => u.RunAt?.UtcDateTime)));
        command.Parameters.Add(Array("started", NpgsqlDbType.TimestampTz, rows.Select(u => u.StartedAt?.UtcDateTime)));
        command.Parameters.Add(Array("finished", NpgsqlDbType.TimestampTz, rows.Select(u => u.FinishedAt?.UtcDateTime)));
        command.Parameters.Add(Array("results", NpgsqlDbType.Text, rows.Select(u => u.Result)));
        command.Parameters.Add(Array("errors", NpgsqlDbType.Text, rows.Select(u => u.Error)));
        command.Parameters.Add(Array("restarts", NpgsqlDbType.Boolean, rows.Select(u => u.Restart)));
        command.Parameters.AddWithValue("channel", Channel);
        command.Parameters.AddWithValue("payload", canvases.Length > MaxPayload ? "" : canvases);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// An un-enqueue: a queued event is cancelled at once (a waiter wakes); one that already runs or finished keeps its
    /// status, and one not written yet becomes cancelled when its worker reaches it.
    /// </summary>
    public async Task CancelAsync(string canvas, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            update event_status set status = @status, rank = @rank, finished_at = now(), updated_at = now()
             where canvas = @canvas and id = @id and rank < @rank;
            select pg_notify(@channel, @canvas);
            """, new { canvas, id, status = EventStatuses.Cancelled, rank = EventStatuses.CancelRequestRank, channel = Channel }, cancellationToken: cancellationToken));
    }

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, IEnumerable<T> values) =>
        new(name, NpgsqlDbType.Array | type) { Value = values.ToArray() };

    public async Task<EventStatusRow?> FindAsync(string canvas, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(Guid Id, string Worker, string Status, int Attempts, DateTime EnqueuedAt, DateTime? RunAt,
            DateTime? StartedAt, DateTime? FinishedAt, string? Result, string? Error)?>(new CommandDefinition("""
            select id, worker, status, attempts, enqueued_at, run_at, started_at, finished_at, result::text, error
              from event_status where canvas = @canvas and id = @id
            """, new { canvas, id }, cancellationToken: cancellationToken));
        return row is not { } r ? null : new EventStatusRow(r.Id, r.Worker, r.Status, r.Attempts, UnhandledStore.Utc(r.EnqueuedAt), Utc(r.RunAt),
            Utc(r.StartedAt), Utc(r.FinishedAt), r.Result, r.Error);
    }

    /// <summary>Drops the statuses not written for <paramref name="keepFor"/>; returns how many.</summary>
    public async Task<int> PruneAsync(TimeSpan keepFor, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // enqueued_at is never later than updated_at: its BRIN index narrows the scan to the old rows.
        return await connection.ExecuteAsync(new CommandDefinition("""
            delete from event_status
             where enqueued_at < now() - make_interval(secs => @seconds) and updated_at < now() - make_interval(secs => @seconds)
            """,
            new { seconds = keepFor.TotalSeconds }, cancellationToken: cancellationToken));
    }

    private static DateTimeOffset? Utc(DateTime? at) => at is { } value ? UnhandledStore.Utc(value) : null;
}
