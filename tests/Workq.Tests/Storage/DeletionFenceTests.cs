using Dapper;
using Npgsql;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Tests.Storage;

/// <summary>
/// The fence between writes and deletion (docs/DESIGN.md "Deleting a canvas or a worker"), store by store on
/// PostgreSQL: a batch holding a canvas or worker delays its deletion, which then removes what the batch wrote; and
/// once deleted, nothing written for the old incarnation lands, not even after the name was created again.
/// </summary>
public sealed class DeletionFenceTests(ThrowawayDatabase database) : IClassFixture<ThrowawayDatabase>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly byte[] Body = "{\"secret\":1}"u8.ToArray();

    private readonly CanvasStore canvases = new(database.Db);
    private readonly WorkerStore workers = new(database.Db);
    private readonly EventStatusStore statuses = new(database.Db);
    private readonly IdempotencyStore idempotency = new(database.Db);
    private readonly ScheduledEventStore scheduled = new(database.Db);
    private readonly CancelledEventStore cancelled = new(database.Db);
    private readonly CronStore crons = new(database.Db);
    private readonly StepStore steps = new(database.Db);
    private readonly DebounceStore debounces = new(database.Db);
    private readonly DeadLetterStore deadLetters = new(database.Db);
    private readonly UnhandledStore unhandled = new(database.Db);
    private readonly MetricsStore metrics = new(database.Db);
    private readonly BatchStore batches = new(database.Db);

    private IEnumerable<ICanvasData> Stores =>
    [
        statuses, idempotency, scheduled, cancelled, crons, deadLetters, unhandled, metrics,
        new PostgresTraceStore(database.Db),
    ];

    /// <summary>A canvas with one worker "w", as control creates them: their incarnations.</summary>
    private async Task<(long Canvas, long Worker)> CreateAsync(string canvas)
    {
        var canvasIncarnation = await database.CreateCanvasAsync(canvas);
        await using var connection = await database.Db.OpenConnectionAsync();
        var workerIncarnation = await connection.ExecuteScalarAsync<long>(
            "insert into workers (canvas, name, version, code, concurrency) values (@canvas, 'w', 1, '', 1) "
            + "returning incarnation",
            new { canvas });
        return (canvasIncarnation, workerIncarnation);
    }

    /// <summary>What control's CanvasDeletion does in PostgreSQL: the mark, every store's rows, the row.</summary>
    private async Task DeleteAsync(string canvas)
    {
        Assert.NotNull(await canvases.MarkDeletingAsync(canvas, CancellationToken.None));
        foreach (var store in Stores) await store.DeleteCanvasAsync(canvas, CancellationToken.None);
        Assert.True(await canvases.DeleteAsync(canvas, CancellationToken.None));
    }

    /// <summary>Rows of the canvas in every table that keeps tenant rows (not the registry's own).</summary>
    private async Task<Dictionary<string, long>> RowsAsync(string canvas)
    {
        await using var connection = await database.Db.OpenConnectionAsync();
        var tables = await connection.QueryAsync<string>("""
            select table_name from information_schema.columns
             where table_schema = current_schema() and column_name = 'canvas'
                  and table_name not in ('workers', 'worker_assemblies', 'applied_changes')
            """);
        var rows = new Dictionary<string, long>();
        foreach (var table in tables) rows[table] = await connection.ExecuteScalarAsync<long>(
            $"select count(*) from {table} where canvas = @canvas",
            new { canvas });
        return rows;
    }

    /// <summary>
    /// One write through every store's writer, for these incarnations; what refuses them throws or answers so.
    /// </summary>
    private async Task<List<string>> WriteEverythingAsync(string canvas, long canvasIncarnation, long workerIncarnation)
    {
        var refused = new List<string>();
        var now = DateTimeOffset.UtcNow;
        var envelope = new EventEnvelope(
            Guid.CreateVersion7(now),
            canvas,
            "w",
            now,
            0,
            null,
            null,
            canvasIncarnation,
            workerIncarnation);
        // A queued row (of a high event: its priority is a row apart), a finished run (stored apart, many to a row) and
        // an emit request's queued.
        await statuses.WriteAsync(
            [EventStatusUpdate.Queued(envelope with { Priority = Shared.Handlers.Messaging.Priority.High }),
                new EventStatusUpdate(canvas, Guid.CreateVersion7(now), "w", EventStatuses.Completed,
                    EventStatuses.FinishedRank, 1, now, StartedAt: now, FinishedAt: now,
                    CanvasIncarnation: canvasIncarnation)],
            [new EmittedEvents(canvas, now, [Guid.CreateVersion7(now)], ["w"], canvasIncarnation)],
            CancellationToken.None);
        await statuses.CancelAsync(
            canvas,
            canvasIncarnation,
            "w",
            Guid.CreateVersion7(now),
            now,
            CancellationToken.None);
        await Refused(
            "idempotency",
            () => idempotency.ClaimAsync(canvas, canvasIncarnation, [("k", envelope.Id)], now, CancellationToken.None));
        await Refused("scheduled", () => scheduled.ScheduleAsync(
            canvas,
            canvasIncarnation,
            [new ScheduledEvent(envelope, now.AddHours(1), Body)],
            10,
            CancellationToken.None));
        await Refused(
            "cancelled",
            () => cancelled.AddAsync(canvas, canvasIncarnation, "w", envelope.Id, CancellationToken.None));
        // A batch, its members and a member's end: the create holds the canvas; the rest need the batch to exist.
        var batchId = Guid.CreateVersion7(now);
        await Refused("batches", () => batches.CreateAsync(
            new NewBatch(canvas, batchId, 0, null, null, null, null),
            canvasIncarnation,
            CancellationToken.None));
        await batches.AddAsync(canvas, batchId, [(envelope.Id, "w")], close: false, whileOpen: true,
            CancellationToken.None);
        await batches.RecordFinishesAsync([new BatchFinish(canvas, batchId, envelope.Id, EventStatuses.Completed)],
            CancellationToken.None);
        // A debounced emit: its key's row, and its run waiting in scheduled_events.
        await Refused("debounces", () => debounces.EmitAsync(envelope with { Id = Guid.CreateVersion7(now) }, Body,
            Shared.Handlers.Messaging.Debounce.Of("d", TimeSpan.FromMinutes(1)), null, 10, CancellationToken.None));
        // A durable event's step, its sleep (and its resume), and a signal sent to another of its events.
        await steps.SaveAsync(canvas, canvasIncarnation, envelope.Id, "step:a#1", "1"u8.ToArray(), null,
            CancellationToken.None);
        await steps.SuspendAsync(envelope with { Id = Guid.CreateVersion7(now) }, Body,
            new Shared.Handlers.Messaging.Suspension(Shared.Handlers.Messaging.SuspensionKind.Sleep, "sleep#1",
                now.AddHours(1)), CancellationToken.None);
        await steps.SignalAsync(canvas, canvasIncarnation, Guid.CreateVersion7(now), "go", "1"u8.ToArray(), false,
            CancellationToken.None);
        if (await crons.PutAsync(
            canvas,
            canvasIncarnation,
            "cron",
            "* * * * *",
            "w",
            "null",
            now.AddMinutes(1),
            CancellationToken.None) is null) refused.Add("crons");
        if (!await deadLetters.AddAsync(envelope, Body, "failed", 1, CancellationToken.None)) refused.Add(
            "dead letters");
        await unhandled.ParkAsync(
            envelope with { Worker = "ghost", WorkerIncarnation = 0 },
            Body,
            CancellationToken.None);
        await using (var batch = await FencedBatch.WorkersAsync(database.Db, [(canvas, "w")], CancellationToken.None))
        {
            if (!batch.Admits(canvas, "w", workerIncarnation)) refused.Add("runs");
            else
            {
                await MetricsStore.AddAsync(batch, [new MinuteDelta(
                    canvas,
                    "w",
                    MetricsStore.Floor(now.UtcDateTime, MetricsStore.Minute),
                    1,
                    0,
                    0,
                    0,
                    [],
                    [])],
                    CancellationToken.None);
                await WorkerStore.AddCountsAsync(batch, [new WorkerCounts(canvas, "w", 1, 0)], CancellationToken.None);
                await new PostgresTraceStore(database.Db).AppendAsync(
                    [new TraceEntry(canvas, "w", envelope.Id, now, "{}")],
                    10,
                    CancellationToken.None);
                await batch.CommitAsync(CancellationToken.None);
            }
        }
        return refused;

        async Task Refused(string what, Func<Task> write)
        {
            try
            {
                await write();
            }
            catch (CanvasGoneException)
            {
                refused.Add(what);
            }
        }
    }

    [Fact]
    public async Task Nothing_written_for_a_deleted_incarnation_lands_in_the_canvas_created_again_under_its_name()
    {
        var canvas = "fence-" + Guid.NewGuid().ToString("N")[..8];
        var (oldCanvas, oldWorker) = await CreateAsync(canvas);
        await DeleteAsync(canvas);
        var (newCanvas, newWorker) = await CreateAsync(canvas);
        Assert.NotEqual(oldCanvas, newCanvas);
        Assert.NotEqual(oldWorker, newWorker);

        // A run, a flush, an emit of the old canvas, landing now: every writer refuses it, and no row appears.
        var refused = await WriteEverythingAsync(canvas, oldCanvas, oldWorker);
        Assert.Equal(
            new[] { "idempotency", "scheduled", "cancelled", "batches", "debounces", "crons", "dead letters", "runs" },
            refused);
        Assert.All(
            await RowsAsync(canvas),
            table => Assert.True(table.Value == 0, $"{table.Value} row(s) of the old canvas in {table.Key}"));
        // A retry or redrive of the deleted worker, parked because the new canvas has no queue for it yet, is not kept
        // either.
        await unhandled.ParkAsync(
            new EventEnvelope(Guid.NewGuid(), canvas, "w", DateTimeOffset.UtcNow, 0, null, null, newCanvas, oldWorker),
            Body,
            CancellationToken.None);
        Assert.Equal(0, (await RowsAsync(canvas))["unhandled_events"]);

        // The same writes for the new incarnation land everywhere: the check above could fail.
        Assert.Empty(await WriteEverythingAsync(canvas, newCanvas, newWorker));
        Assert.All(await RowsAsync(canvas), table => Assert.True(table.Value > 0
            || table.Key is "unhandled_dropped" or "cron_ticks" or "metrics_hour" or "worker_rate_buckets"
                // The operators' quarantine, which no tenant reads: an item keeps its incarnation headers, so a redrive
                // into a canvas created again is dropped by its consumer.
                or "quarantine",
            $"nothing written in {table.Key}: the test does not check it"));
    }

    [Fact]
    public async Task A_flush_holding_the_canvas_delays_its_deletion_that_removes_its_rows_a_later_one_writes_nothing()
    {
        var canvas = "flush-" + Guid.NewGuid().ToString("N")[..8];
        var (incarnation, _) = await CreateAsync(canvas);
        var now = DateTimeOffset.UtcNow;
        var inFlight = new EventEnvelope(Guid.CreateVersion7(now), canvas, "w", now, 0, null, null, incarnation);

        // A status flush has taken its canvases (FencedBatch, as EventStatusStore.WriteAsync does) and is writing.
        var flush = await FencedBatch.CanvasesAsync(database.Db, [canvas], CancellationToken.None);
        Assert.True(flush.Admits(canvas, incarnation));
        var marking = canvases.MarkDeletingAsync(canvas, CancellationToken.None);
        await WaitForLockAsync("with locked as (select name from canvases");
        Assert.False(marking.IsCompleted, "the mark did not wait for the flush");
        await flush.Connection.ExecuteAsync("""
            insert into event_status (canvas, id, worker, status, rank, attempts, enqueued_at)
                 values (@canvas, @id, 'w', 'queued', 10, 1, now())
            """, new { canvas, id = inFlight.Id }, flush.Transaction);
        await flush.CommitAsync(CancellationToken.None);
        await flush.DisposeAsync();
        Assert.NotNull(await marking);

        // A flush that comes after the mark writes nothing; the deletion removes what the one before wrote.
        await statuses.WriteAsync(
            [EventStatusUpdate.Queued(inFlight with { Id = Guid.CreateVersion7(now) })],
            [],
            CancellationToken.None);
        Assert.Equal(1, (await RowsAsync(canvas))["event_status"]);
        foreach (var store in Stores) await store.DeleteCanvasAsync(canvas, CancellationToken.None);
        Assert.True(await canvases.DeleteAsync(canvas, CancellationToken.None));
        Assert.All(
            await RowsAsync(canvas),
            table => Assert.True(table.Value == 0, $"{table.Value} row(s) left in {table.Key}"));
    }

    [Fact]
    public async Task A_run_flush_holding_the_worker_delays_its_deletion_and_one_after_the_mark_is_not_admitted()
    {
        var canvas = "wflush-" + Guid.NewGuid().ToString("N")[..8];
        var (_, incarnation) = await CreateAsync(canvas);

        var flush = await FencedBatch.WorkersAsync(database.Db, [(canvas, "w")], CancellationToken.None);
        Assert.True(flush.Admits(canvas, "w", incarnation));
        var marking = workers.MarkDeletingAsync(canvas, "w", CancellationToken.None);
        await WaitForLockAsync("with locked as (select canvas, name from workers");
        Assert.False(marking.IsCompleted, "the mark did not wait for the flush");
        await WorkerStore.AddCountsAsync(flush, [new WorkerCounts(canvas, "w", 1, 0)], CancellationToken.None);
        await flush.CommitAsync(CancellationToken.None);
        await flush.DisposeAsync();
        Assert.Equal((0, false), await marking);

        await using var after = await FencedBatch.WorkersAsync(database.Db, [(canvas, "w")], CancellationToken.None);
        Assert.False(after.Admits(canvas, "w", incarnation));
        Assert.False(after.Admits(canvas, "w", 0));
    }

    /// <summary>
    /// Until a backend waits for a row lock on a statement starting so: the deletion is queued behind the batch.
    /// </summary>
    private async Task WaitForLockAsync(string statement)
    {
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(WorkqCluster.PostgresAdmin) { Database = database.Name }
                .ConnectionString);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow + Patience;
        while (await connection.ExecuteScalarAsync<long>("""
                   select count(*) from pg_stat_activity where datname = current_database()
                        and wait_event_type = 'Lock' and query like @statement || '%'
                   """, new { statement }) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"nothing waited on '{statement}'");
            await Task.Delay(20);
        }
    }
}
