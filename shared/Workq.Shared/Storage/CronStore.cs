using Dapper;
using Npgsql;

namespace Workq.Shared.Storage;

/// <summary>
/// Crons and their ticks. A tick is claimed by inserting (cron, tick time) into <c>cron_ticks</c>:
/// the primary key lets exactly one dispatcher win it, however many run.
/// </summary>
public sealed class CronStore(NpgsqlDataSource db) : ICanvasData
{
    private const string Columns = "canvas, name, schedule, worker, event::text as event, last_run, next_run";

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "delete from cron_ticks where canvas = @canvas; delete from crons where canvas = @canvas",
            new { canvas },
            cancellationToken);

    /// <summary>
    /// Creates or replaces the cron. An unchanged schedule keeps its pending next tick (so changing only
    /// the event never skips a due tick); a new one starts from <paramref name="nextRun"/>.
    /// Returns null when the canvas does not exist (any more), or not in <paramref name="canvasIncarnation"/> (0: any).
    /// </summary>
    public async Task<(CronRecord Cron, bool Created)?> PutAsync(
        string canvas,
        long canvasIncarnation,
        string name,
        string schedule,
        string worker,
        string eventJson,
        DateTimeOffset nextRun,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            with {FencedBatch.AliveCanvas("canvas", "canvasIncarnation")}
            insert into crons as c (canvas, name, schedule, worker, event, next_run)
            select @canvas, @name, @schedule, @worker, @eventJson::json, @nextRun
             where exists (select 1 from alive)
            on conflict (canvas, name) do update
               set schedule = excluded.schedule, worker = excluded.worker, event = excluded.event, updated_at = now(),
                   next_run = case when c.schedule = excluded.schedule then c.next_run else excluded.next_run end
            returning {Columns}, (xmax = 0) as created
            """, new
        {
            canvas,
            canvasIncarnation,
            name,
            schedule,
            worker,
            eventJson,
            nextRun = nextRun
            .UtcDateTime
        }, cancellationToken: cancellationToken));
        return row is null ? null : (row.ToRecord(), row.Created);
    }

    public async Task<CronRecord?> GetAsync(string canvas, string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"select {Columns} from crons where canvas = @canvas and name = @name", new { canvas, name },
                cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<CronRecord>> ListAsync(string canvas, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from crons where canvas = @canvas order by name", new { canvas },
                cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<bool> DeleteAsync(string canvas, string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
            with gone as (delete from crons where canvas = @canvas and name = @name returning 1),
                 ticks as (delete from cron_ticks where canvas = @canvas and name = @name)
            select exists (select 1 from gone)
            """, new { canvas, name }, cancellationToken: cancellationToken));
    }

    /// <summary>Crons whose next tick is at or before <paramref name="now"/>, most overdue first.</summary>
    public async Task<IReadOnlyList<DueCron>> DueAsync(
        DateTimeOffset now,
        int limit,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection
            .QueryAsync<(string Canvas, string Name, string Schedule, DateTime NextRun)>(new CommandDefinition(
                "select canvas, name, schedule, next_run from crons where next_run <= @now order by next_run limit " +
                    "@limit",
                new { now = now.UtcDateTime, limit }, cancellationToken: cancellationToken));
        return rows.Select(r => new DueCron(r.Canvas, r.Name, r.Schedule, UnhandledStore.Utc(r.NextRun))).ToList();
    }

    /// <summary>
    /// Claims <paramref name="tick"/> for this caller. Fails when the cron is gone or changed so that
    /// the tick is no longer due, when it already fired that tick or a later one, or when another
    /// dispatcher holds the claim; a claim never published by <paramref name="staleBefore"/> (its
    /// dispatcher died) is taken over. The cron row is locked first so claims of one cron are serial,
    /// and the second statement then sees every claim committed before it.
    /// </summary>
    public async Task<CronClaim?> ClaimAsync(
        string canvas,
        string name,
        DateTimeOffset tick,
        Guid eventId,
        DateTimeOffset now,
        DateTimeOffset staleBefore,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var args = new
        {
            canvas,
            name,
            tick = tick.UtcDateTime,
            eventId,
            now = now
            .UtcDateTime,
            staleBefore = staleBefore.UtcDateTime
        };
        // The cron row locked: a deletion of the canvas waits for the claim to commit, and the event carries the
        // canvas's incarnation.
        var cron = await connection.QuerySingleOrDefaultAsync<CronClaim>(new CommandDefinition("""
            select r.worker, r.event::text as event, c.incarnation as canvasincarnation from crons r join canvases c on
                c.name = r.canvas and not c.deleting
             where r.canvas = @canvas and r.name = @name and r.next_run <= @tick and (r.last_run is null or r.last_run <
                 @tick)
               for update of r
            """, args, transaction, cancellationToken: cancellationToken));
        if (cron is null) return null;
        var won = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
            with claimed as (
                insert into cron_ticks as t (canvas, name, tick_time, event_id, claimed_at)
                select @canvas, @name, @tick, @eventId, @now
                 where not exists (select 1 from cron_ticks l where l.canvas = @canvas and l.name = @name and
                     l.tick_time > @tick)
                on conflict (canvas, name, tick_time) do update set event_id = excluded.event_id, claimed_at =
                    excluded.claimed_at
                 where t.published_at is null and t.claimed_at < @staleBefore
                returning 1)
            select exists (select 1 from claimed)
            """, args, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return won ? cron : null;
    }

    /// <summary>
    /// The tick's event is on the broker: record it, and move the cron on unless a change meanwhile
    /// already did. The cron row is locked before the tick row, in the same order as a claim, so
    /// the two never deadlock. Only in the canvas incarnation that claimed it: a cron of the same name in a canvas
    /// re-created meanwhile is another cron.
    /// </summary>
    public async Task CompleteAsync(
        string canvas,
        long canvasIncarnation,
        string name,
        DateTimeOffset tick,
        Guid eventId,
        DateTimeOffset nextRun,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            update crons set last_run = greatest(last_run, @tick),
                   next_run = case when next_run <= @tick then @nextRun else next_run end
             where canvas = @canvas and name = @name and exists (select 1 from canvases where name = @canvas and
                 incarnation = @canvasIncarnation);
            update cron_ticks set published_at = @now where canvas = @canvas and name = @name and tick_time = @tick and
                event_id = @eventId;
            """, new
        {
            canvas,
            canvasIncarnation,
            name,
            tick = tick.UtcDateTime,
            eventId,
            nextRun = nextRun
            .UtcDateTime,
            now = now.UtcDateTime
        },
            cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Stops a cron from firing (its next run at infinity) until a put gives it a new schedule; false when it is gone.
    /// </summary>
    public async Task<bool> SuspendAsync(string canvas, string name, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "update crons set next_run = 'infinity' where canvas = @canvas and name = @name",
            new { canvas, name },
            cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>Gives back a claim whose event could not be published, so the tick is tried again.</summary>
    public async Task ReleaseAsync(
        string canvas,
        string name,
        DateTimeOffset tick,
        Guid eventId,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "delete from cron_ticks where canvas = @canvas and name = @name and tick_time = @tick and event_id = " +
                "@eventId and published_at is null",
            new { canvas, name, tick = tick.UtcDateTime, eventId }, cancellationToken: cancellationToken));
    }

    /// <returns>How many tick records older than <paramref name="before"/> were removed.</returns>
    public async Task<int> DeleteTicksBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "delete from cron_ticks where tick_time < @before", new
            {
                before = before
                .UtcDateTime
            }, cancellationToken: cancellationToken));
    }

    private sealed class Row
    {
        public string Canvas { get; set; } = "";
        public string Name { get; set; } = "";
        public string Schedule { get; set; } = "";
        public string Worker { get; set; } = "";
        public string Event { get; set; } = "null";
        public DateTime? Last_Run { get; set; }
        public DateTime Next_Run { get; set; }
        public bool Created { get; set; }

        public CronRecord ToRecord() => new(Canvas, Name, Schedule, Worker, Event,
            Last_Run is { } last ? UnhandledStore.Utc(last) : null, UnhandledStore.Utc(Next_Run));
    }
}
