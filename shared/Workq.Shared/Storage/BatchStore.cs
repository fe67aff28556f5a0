using Dapper;
using Npgsql;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>
/// Batches (API.md "Batches", docs/DESIGN.md "Batches"): a row per batch, the ids it holds (a row per request that
/// added some), and the final statuses reported for them (a row per batch and flush). Nothing is updated per event: a
/// flush of finishes is one insert, and the settler (<see cref="SettleAsync"/>) updates each batch's counts once per
/// pass. A closed batch that has seen as many finishes as it holds is counted exactly (the first final status of each
/// of its ids) and, when every id has one, finished: its callbacks become due scheduled events in the same
/// transaction, so each is stored once and published by the pump with its derived id.
/// </summary>
public sealed class BatchStore(NpgsqlDataSource db) : ICanvasData
{
    /// <summary>Events a request adds to a batch at most (API.md).</summary>
    public const int MaxEventsPerRequest = 1000;

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) => db.ExecuteAsync("""
        delete from batch_members where canvas = @canvas;
        delete from batch_finishes where canvas = @canvas;
        delete from batches where canvas = @canvas;
        """, new { canvas }, cancellationToken);

    /// <summary>
    /// Creates an open batch, or finds the one an earlier request made with the same idempotency key or id (a handler's
    /// batch, whose id is made from its event's): <c>Created</c> says which. <see cref="CanvasGoneException"/> when the
    /// canvas was deleted or re-created since <paramref name="canvasIncarnation"/>.
    /// </summary>
    public async Task<(Guid Id, bool Created)> CreateAsync(
        NewBatch batch,
        long canvasIncarnation,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<(bool Alive, Guid? Id, bool Created)>(new CommandDefinition($"""
            with {FencedBatch.AliveCanvas("canvas", "canvasIncarnation")},
            inserted as (
                insert into batches (canvas, id, depth, idempotency_key, trace_parent, on_complete_worker,
                    on_complete_event, on_success_worker, on_success_event)
                select @canvas, @id, @depth, @key, @traceParent, @onCompleteWorker, @onCompleteEvent, @onSuccessWorker,
                    @onSuccessEvent from alive
                on conflict do nothing
                returning id)
            select exists (select 1 from alive),
                coalesce((select id from inserted),
                    (select id from batches where canvas = @canvas and (idempotency_key = @key or id = @id) limit 1)),
                exists (select 1 from inserted)
            """, new
        {
            canvas = batch.Canvas,
            canvasIncarnation,
            id = batch.Id,
            depth = batch.Depth,
            key = batch.IdempotencyKey,
            traceParent = batch.TraceParent,
            onCompleteWorker = batch.OnComplete?.Worker,
            onCompleteEvent = batch.OnComplete?.Event,
            onSuccessWorker = batch.OnSuccess?.Worker,
            onSuccessEvent = batch.OnSuccess?.Event,
        }, cancellationToken: cancellationToken));
        if (!row.Alive) throw new CanvasGoneException(batch.Canvas);
        // A key whose batch is being created by another request right now: its row is not visible yet.
        return row.Id is { } found ? (found, row.Created) : throw new BatchConflictException(
            $"Batch with idempotency key '{batch.IdempotencyKey}' is being created by another request; retry.");
    }

    /// <summary>
    /// Adds enqueued events to the batch, and closes it when <paramref name="close"/>. <paramref name="whileOpen"/>:
    /// only to an open batch (the API's adds); else to any that has not finished (a member's own emit, which the batch
    /// waits for as it waits for the member). Added before the batch can finish, so it never finishes without them.
    /// </summary>
    public async Task<BatchChange> AddAsync(
        string canvas,
        Guid batchId,
        IReadOnlyList<(Guid Id, string Worker)> events,
        bool close,
        bool whileOpen,
        CancellationToken cancellationToken,
        bool dedupe = false,
        bool byCreate = false)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var state = await LockAsync(connection, transaction, canvas, batchId, cancellationToken);
        if (state is not { } row) return BatchChange.NotFound;
        if (row.Finished) return BatchChange.Finished;
        if (whileOpen && row.Closed) return BatchChange.Closed;
        // A handler's emits may come again (a retry, a redelivery), with the same ids: those already in are left out.
        var insert = dedupe ? """
            with e as (select * from unnest(@ids, @workers) as e(id, worker)
                        where e.id not in (select unnest(ids) from batch_members
                                            where canvas = @canvas and batch_id = @batchId)),
            added as (
                insert into batch_members (canvas, batch_id, ids, workers)
                select @canvas, @batchId, array_agg(id), array_agg(worker) from e having count(*) > 0
                returning cardinality(ids) as count)
            update batches set total = total + (select coalesce(sum(count), 0) from added)
             where canvas = @canvas and id = @batchId;
            """ : """
            insert into batch_members (canvas, batch_id, ids, workers, by_create)
            values (@canvas, @batchId, @ids, @workers, @byCreate);
            update batches set total = total + @count where canvas = @canvas and id = @batchId;
            """;
        if (events.Count > 0)
            await connection.ExecuteAsync(new CommandDefinition(insert, new
            {
                canvas,
                batchId,
                ids = events.Select(e => e.Id).ToArray(),
                workers = events.Select(e => e.Worker).ToArray(),
                count = events.Count,
                byCreate,
            }, transaction, cancellationToken: cancellationToken));
        if (close && !row.Closed) await CloseLockedAsync(connection, transaction, canvas, batchId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return BatchChange.Done;
    }

    /// <summary>Gives back what <see cref="AddAsync"/> added for events that were then not enqueued.</summary>
    public async Task RemoveAsync(
        string canvas,
        Guid batchId,
        IReadOnlyList<Guid> ids,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            with removed as (
                delete from batch_members where canvas = @canvas and batch_id = @batchId and ids = @ids returning 1)
            update batches set total = total - @count where canvas = @canvas and id = @batchId and exists (select 1 from
                removed)
            """, new { canvas, batchId, ids = ids.ToArray(), count = ids.Count },
            cancellationToken: cancellationToken));
    }

    /// <summary>Gives back the batch's idempotency key: a later create with it makes a new batch.</summary>
    public Task ForgetKeyAsync(string canvas, Guid batchId, CancellationToken cancellationToken) => db.ExecuteAsync(
        "update batches set idempotency_key = null where canvas = @canvas and id = @batchId",
        new { canvas, batchId },
        cancellationToken);

    /// <summary>Closes an open batch; a closed one stays as it is.</summary>
    public async Task<BatchChange> CloseAsync(string canvas, Guid batchId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await LockAsync(connection, transaction, canvas, batchId, cancellationToken) is not { } row)
            return BatchChange.NotFound;
        if (!row.Closed) await CloseLockedAsync(connection, transaction, canvas, batchId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return BatchChange.Done;
    }

    /// <summary>The batch, or null when the canvas has none with that id.</summary>
    public async Task<BatchRow?> FindAsync(string canvas, Guid batchId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<BatchRow>(new CommandDefinition(
            $"select {Columns} from batches where canvas = @canvas and id = @batchId",
            new { canvas, batchId },
            cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Up to <paramref name="limit"/> of the batch's members from position <paramref name="after"/> on, in the order
    /// they were added.
    /// </summary>
    public async Task<List<(Guid Id, string Worker)>> MembersAsync(
        string canvas,
        Guid batchId,
        int after,
        int limit,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(Guid Id, string Worker)>(new CommandDefinition("""
            select e.id, e.worker from batch_members bm
             cross join lateral unnest(bm.ids, bm.workers) with ordinality as e(id, worker, ord)
             where bm.canvas = @canvas and bm.batch_id = @batchId
             order by bm.seq, e.ord offset @after limit @limit
            """, new { canvas, batchId, after, limit }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>
    /// Up to <paramref name="rows"/> rows of the batch's finishes after the one numbered <paramref name="afterSeq"/>,
    /// in the order they were written: each row's ids with their statuses, results and errors.
    /// </summary>
    public async Task<List<FinishRow>> FinishesAsync(
        string canvas,
        Guid batchId,
        long afterSeq,
        int rows,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<FinishRow>(new CommandDefinition("""
            select seq, ids, statuses, coalesce(results, array_fill(null::text, array[cardinality(ids)])) as results,
                coalesce(errors, array_fill(null::text, array[cardinality(ids)])) as errors
              from batch_finishes where canvas = @canvas and batch_id = @batchId and seq > @afterSeq
             order by seq limit @rows
            """, new { canvas, batchId, afterSeq, rows }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>
    /// One row of a batch's finishes: its number and, element by element, ids, statuses, results, errors (properties:
    /// Dapper reads arrays into them, not into a constructor's parameters).
    /// </summary>
    public sealed class FinishRow
    {
        public long Seq { get; init; }
        public Guid[] Ids { get; init; } = [];
        public string[] Statuses { get; init; } = [];
        public string?[] Results { get; init; } = [];
        public string?[] Errors { get; init; } = [];
    }

    /// <summary>The ids the request that created the batch added (what a repeated create answers).</summary>
    public async Task<Guid[]> FirstIdsAsync(string canvas, Guid batchId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Guid[]>(new CommandDefinition(
            "select ids from batch_members where canvas = @canvas and batch_id = @batchId and by_create",
            new { canvas, batchId },
            cancellationToken: cancellationToken)) ?? [];
    }

    /// <summary>
    /// A canvas's batches, newest first, <paramref name="limit"/> of them after <paramref name="after"/>, in one state
    /// or all.
    /// </summary>
    public async Task<List<BatchRow>> ListAsync(
        string canvas,
        string? state,
        PageCursor? after,
        int limit,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<BatchRow>(new CommandDefinition($"""
            select {Columns} from batches
             where canvas = @canvas
               and (@afterAt::timestamptz is null or (created_at, id) < (@afterAt, @afterId))
               and (@state::text is null
                    or (@state = '{BatchStates.Open}' and closed_at is null and finished_at is null)
                    or (@state = '{BatchStates.Running}' and closed_at is not null and finished_at is null)
                    or (@state = '{BatchStates.Completed}' and finished_at is not null))
             order by created_at desc, id desc limit @limit
            """, new
        {
            canvas,
            state,
            afterAt = after?.At.UtcDateTime,
            afterId = after?.Id ?? Guid.Empty,
            limit,
        }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>
    /// Records final statuses of batch members: a row of finishes per batch, in one statement (durable when it returns:
    /// the caller acks the deliveries after it). Nothing else is written here: a dispatcher's <c>BatchSettler</c> folds
    /// the rows into their batches' counts and finishes the batches (<see cref="SettleAsync"/>). Finishes of a batch
    /// that does not exist (its canvas deleted meanwhile) are not stored.
    /// </summary>
    public async Task RecordFinishesAsync(IReadOnlyList<BatchFinish> finishes, CancellationToken cancellationToken)
    {
        if (finishes.Count == 0) return;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into batch_finishes (canvas, batch_id, ids, statuses, results, errors)
            select f.canvas, f.batch_id, array_agg(f.id order by f.ord), array_agg(f.status order by f.ord),
                array_agg(f.result order by f.ord), array_agg(f.error order by f.ord)
              from unnest(@canvases, @batchIds, @ids, @statuses, @results, @errors) with ordinality
                   as f(canvas, batch_id, id, status, result, error, ord)
             where exists (select 1 from batches b where b.canvas = f.canvas and b.id = f.batch_id)
             group by f.canvas, f.batch_id
            """, new
        {
            canvases = finishes.Select(f => f.Canvas).ToArray(),
            batchIds = finishes.Select(f => f.BatchId).ToArray(),
            ids = finishes.Select(f => f.EventId).ToArray(),
            statuses = finishes.Select(f => f.Status).ToArray(),
            results = finishes.Select(f => f.Result).ToArray(),
            errors = finishes.Select(f => f.Error).ToArray(),
        }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// One pass of the settler: up to <paramref name="limit"/> batches with finishes not yet counted, each locked
    /// (those another dispatcher holds are skipped), its new finishes added to its counts, and, closed and having seen
    /// as many as it holds, counted exactly and finished (its callbacks stored). New finishes of a finished batch, or
    /// of none, are set aside. Answers how many batches it settled.
    /// </summary>
    /// <remarks>
    /// Each batch is settled under a savepoint of its own: one that fails (reported to <paramref name="failed"/>) keeps
    /// its finishes uncounted for the next pass, and costs the others nothing.
    /// </remarks>
    public async Task<int> SettleAsync(
        int limit,
        Action<string, Guid, Exception> failed,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var pending = (await connection.QueryAsync<(string Canvas, Guid Id, bool Finished)>(new CommandDefinition("""
            with waiting as (select distinct canvas, batch_id from batch_finishes where not folded limit @limit)
            select b.canvas, b.id, b.finished_at is not null from batches b
              join waiting w on w.canvas = b.canvas and w.batch_id = b.id
             order by b.canvas, b.id for update of b skip locked
            """, new { limit }, transaction, cancellationToken: cancellationToken))).AsList();
        foreach (var (canvas, id, finished) in pending)
        {
            await transaction.SaveAsync("batch", cancellationToken);
            try
            {
                if (finished)
                    await connection.ExecuteAsync(new CommandDefinition(
                        "update batch_finishes set folded = true where canvas = @canvas and batch_id = @id and not " +
                            "folded",
                        new { canvas, id }, transaction, cancellationToken: cancellationToken));
                else await SettleLockedAsync(connection, transaction, canvas, id, cancellationToken);
            }
            catch (PostgresException e)
            {
                await transaction.RollbackAsync("batch", cancellationToken);
                failed(canvas, id, e);
            }
        }
        // Finishes whose batch is gone (its canvas was deleted as they were written): nothing will count them.
        await connection.ExecuteAsync(new CommandDefinition("""
            delete from batch_finishes f where not folded
               and not exists (select 1 from batches b where b.canvas = f.canvas and b.id = f.batch_id)
            """, transaction: transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return pending.Count;
    }

    /// <summary>
    /// Cancels a batch that has not finished: it is closed, and each member without a final status that is not running
    /// now is un-enqueued (its cancel mark stored, its delayed row or its resume, asleep or waiting, deleted) and ends
    /// in the batch as cancelled, all in one transaction; a member running now counts as it ends (its caller stops it,
    /// API.md "Cancel"). The batch finishes here when nothing runs. Answers the members it cancelled, the delayed ones
    /// among them (with their enqueue times) and the running ones, for the caller to tell the worker instances and the
    /// status store.
    /// </summary>
    public async Task<BatchCancel> CancelAsync(string canvas, Guid batchId, CancellationToken cancellationToken)
    {
        await using var batch = await FencedBatch.CanvasesAsync(db, [canvas], cancellationToken);
        if (!batch.Admits(canvas, 0)) return new BatchCancel(BatchChange.NotFound, [], [], []);
        var (connection, transaction) = (batch.Connection, batch.Transaction);
        if (await LockAsync(connection, transaction, canvas, batchId, cancellationToken) is not { } row)
            return new BatchCancel(BatchChange.NotFound, [], [], []);
        if (row.Finished) return new BatchCancel(BatchChange.Finished, [], [], []);
        // Running: its status says so and it is not asleep or waiting (a resume stored for it).
        var members = (await connection.QueryAsync<(Guid Id, string Worker, bool Running)>(new CommandDefinition($$"""
            update batches set cancelled_at = coalesce(cancelled_at, now()), closed_at = coalesce(closed_at, now())
             where canvas = @canvas and id = @batchId;
            with m as (
                select distinct on (e.id) e.id, e.worker
                  from batch_members bm cross join lateral unnest(bm.ids, bm.workers) as e(id, worker)
                 where bm.canvas = @canvas and bm.batch_id = @batchId),
            f as (select unnest(ids) as id from batch_finishes where canvas = @canvas and batch_id = @batchId)
            select m.id, m.worker,
                   exists (select 1 from event_status s where s.canvas = @canvas and s.id = m.id and
                       s.status = '{{EventStatuses.Running}}')
                   and not exists (select 1 from scheduled_events r where r.event_id = m.id and r.suspended is not null)
              from m
             where not exists (select 1 from f where f.id = m.id)
            """, new { canvas, batchId }, transaction, cancellationToken: cancellationToken))).AsList();
        var pending = members.Where(m => !m.Running).Select(m => (m.Id, m.Worker)).ToList();
        var running = members.Where(m => m.Running).Select(m => (m.Id, m.Worker)).ToList();
        var ids = pending.ConvertAll(p => p.Id).ToArray();
        var delayed = (await connection.QueryAsync<(Guid Id, DateTime EnqueuedAt)>(new CommandDefinition("""
            insert into cancelled_events (canvas, worker, event_id) select @canvas, w, i from unnest(@workers, @ids) as
                p(w, i) on conflict do nothing;
            delete from scheduled_events where canvas = @canvas and event_id = any(@ids) returning event_id, enqueued_at
            """, new { canvas, ids, workers = pending.ConvertAll(p => p.Worker).ToArray() }, transaction,
            cancellationToken: cancellationToken))).AsList();
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into batch_finishes (canvas, batch_id, ids, statuses, results, errors, folded)
            select @canvas, @batchId, @ids, array_fill(@status::text, array[cardinality(@ids)]),
                array_fill(null::text, array[cardinality(@ids)]), array_fill(null::text, array[cardinality(@ids)]),
                true
             where cardinality(@ids) > 0;
            update batches set seen = seen + cardinality(@ids), cancelled = cancelled + cardinality(@ids)
             where canvas = @canvas and id = @batchId
            """, new { canvas, batchId, ids, status = EventStatuses.Cancelled }, transaction,
            cancellationToken: cancellationToken));
        // With the finishes the settler has not counted yet: a member that ended a moment ago counts as it ended.
        await SettleLockedAsync(connection, transaction, canvas, batchId, cancellationToken);
        await batch.CommitAsync(cancellationToken);
        return new BatchCancel(
            BatchChange.Done,
            pending,
            delayed.ConvertAll(d => (d.Id, new DateTimeOffset(DateTime.SpecifyKind(d.EnqueuedAt, DateTimeKind.Utc)))),
            running);
    }

    /// <summary>Deletes batches finished before <paramref name="cutoff"/>, with their ids and finishes.</summary>
    public async Task<int> PruneAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition("""
            with gone as (delete from batches where finished_at < @cutoff returning canvas, id),
            members as (delete from batch_members m using gone where m.canvas = gone.canvas and m.batch_id = gone.id),
            finishes as (delete from batch_finishes f using gone where f.canvas = gone.canvas and f.batch_id = gone.id)
            select count(*) from gone
            """, new { cutoff = cutoff.UtcDateTime }, cancellationToken: cancellationToken));
    }

    private const string Columns = """
        id, canvas, depth, total, seen, completed, failed, timed_out as TimedOut, cancelled,
        dead_lettered as DeadLettered, on_complete_worker as OnCompleteWorker, on_success_worker as OnSuccessWorker,
        created_at as CreatedAt, closed_at as ClosedAt, cancelled_at as CancelledAt, finished_at as FinishedAt
        """;

    private static async Task<(bool Closed, bool Finished)?> LockAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        string canvas,
        Guid batchId,
        CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(bool Closed, bool Finished)>(new CommandDefinition(
            "select closed_at is not null, finished_at is not null from batches where canvas = @canvas and id = " +
                "@batchId for update",
            new { canvas, batchId },
            transaction,
            cancellationToken: cancellationToken));
        return rows.Select(r => ((bool, bool)?)r).FirstOrDefault();
    }

    private static async Task CloseLockedAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        string canvas,
        Guid batchId,
        CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            "update batches set closed_at = now() where canvas = @canvas and id = @batchId",
            new { canvas, batchId },
            transaction,
            cancellationToken: cancellationToken));
        await SettleLockedAsync(connection, transaction, canvas, batchId, cancellationToken);
    }

    /// <summary>
    /// With the batch's row locked: adds its finishes not counted yet to its counts and, closed and having seen as many
    /// as it holds, counts it exactly and finishes it (<see cref="TryFinishAsync"/>). The settler's step for one batch,
    /// and a close's and a cancel's last.
    /// </summary>
    private static async Task SettleLockedAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        string canvas,
        Guid id,
        CancellationToken cancellationToken)
    {
        var due = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
            with f as (
                update batch_finishes set folded = true where canvas = @canvas and batch_id = @id and not folded
                returning statuses),
            g as (
                select count(*) as n,
                    count(*) filter (where status = 'completed') as completed,
                    count(*) filter (where status = 'failed') as failed,
                    count(*) filter (where status = 'timedOut') as timed_out,
                    count(*) filter (where status = 'cancelled') as cancelled,
                    count(*) filter (where status in ('deadLettered', 'quarantined')) as dead_lettered
                  from f cross join lateral unnest(f.statuses) as s(status))
            update batches b set seen = b.seen + g.n, completed = b.completed + g.completed,
                failed = b.failed + g.failed, timed_out = b.timed_out + g.timed_out,
                cancelled = b.cancelled + g.cancelled, dead_lettered = b.dead_lettered + g.dead_lettered
              from g
             where b.canvas = @canvas and b.id = @id
            returning b.closed_at is not null and b.seen >= b.total
            """, new { canvas, id }, transaction, cancellationToken: cancellationToken));
        if (due) await TryFinishAsync(connection, transaction, canvas, id, cancellationToken);
    }

    /// <summary>
    /// With the batch's row locked: counts its ids' first final statuses; when every id has one, the batch is finished
    /// with those counts, and its callbacks stored as due events (their ids derived from the batch's, so a second store
    /// of one is a no-op). Otherwise its counts are set to the exact ones, so duplicates seen so far do not bring it
    /// back here before new finishes do.
    /// </summary>
    private static async Task TryFinishAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        string canvas,
        Guid batchId,
        CancellationToken cancellationToken)
    {
        // The finishes it counts are the ones it marks folded, in one statement (one snapshot): a finish committed
        // between a count and a later fold would be marked and never counted, and the batch would wait for it forever.
        var count = await connection.QuerySingleAsync<BatchCount>(new CommandDefinition("""
            with folded as (
                update batch_finishes set folded = true where canvas = @canvas and batch_id = @batchId and not folded),
            m as (
                select distinct unnest(ids) as id from batch_members where canvas = @canvas and batch_id = @batchId),
            f as (
                select distinct on (e.id) e.id, e.status
                  from batch_finishes bf
                 cross join lateral unnest(bf.ids, bf.statuses) with ordinality as e(id, status, ord)
                 where bf.canvas = @canvas and bf.batch_id = @batchId
                 order by e.id, bf.seq, e.ord)
            select count(*)::int as members, count(f.id)::int as finished,
                count(*) filter (where f.status = 'completed')::int as completed,
                count(*) filter (where f.status = 'failed')::int as failed,
                count(*) filter (where f.status = 'timedOut')::int as timedout,
                count(*) filter (where f.status = 'cancelled')::int as cancelled,
                count(*) filter (where f.status in ('deadLettered', 'quarantined'))::int as deadlettered
              from m left join f on f.id = m.id
            """, new { canvas, batchId }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition($"""
            update batches set seen = @Finished, completed = @Completed, failed = @Failed, timed_out = @TimedOut,
                cancelled = @Cancelled, dead_lettered = @DeadLettered,
                finished_at = case when @done then now() end
             where canvas = @canvas and id = @batchId;
            insert into scheduled_events (event_id, canvas, worker, enqueued_at, run_at, depth, trace_parent, body,
                callback_of)
            select c.event_id, b.canvas, c.worker, now(), now(), b.depth, b.trace_parent, c.body, b.id
              from batches b cross join lateral (values
                    (@onCompleteId, b.on_complete_worker, b.on_complete_event, true),
                    (@onSuccessId, b.on_success_worker, b.on_success_event, @Completed = @Members))
                    as c(event_id, worker, body, fires)
             where @done and b.canvas = @canvas and b.id = @batchId and c.worker is not null and c.fires
            on conflict (event_id) do nothing;
            select pg_notify('{ScheduledEventStore.Channel}', '') where @done;
            select pg_notify('{EventStatusStore.Channel}', @canvas) where @done;
            """, new
        {
            count.Finished,
            count.Members,
            count.Completed,
            count.Failed,
            count.TimedOut,
            count.Cancelled,
            count.DeadLettered,
            done = count.Finished == count.Members,
            canvas,
            batchId,
            onCompleteId = DerivedIds.Callback(batchId, BatchCallbacks.OnComplete),
            onSuccessId = DerivedIds.Callback(batchId, BatchCallbacks.OnSuccess),
        }, transaction, cancellationToken: cancellationToken));
    }

    private sealed record BatchCount(
        int Members,
        int Finished,
        int Completed,
        int Failed,
        int TimedOut,
        int Cancelled,
        int DeadLettered);
}
