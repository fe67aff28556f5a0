using Dapper;
using Npgsql;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>
/// Debounced emits (API.md "Debounce", docs/DESIGN.md "Debounce"): per canvas, worker and key, the row of its current
/// run. A trailing run is a <c>scheduled_events</c> row, which every emit of its period refills with its event and
/// moves to a period later (never past the cap); the dispatchers' pump publishes it when due, as a delayed emit. A
/// leading run is published at once by the emitter, and the emits of its period are absorbed. One transaction per emit,
/// holding the key's row: concurrent emits of one key queue on it, so they make one run.
/// </summary>
public sealed class DebounceStore(NpgsqlDataSource db) : ICanvasData, IWorkerData
{
    /// <summary>How long a key's row is kept after its period: its run's status shows what it absorbed.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync("delete from debounces where canvas = @canvas", new { canvas }, cancellationToken);

    public Task DeleteWorkerAsync(string canvas, string worker, CancellationToken cancellationToken) =>
        db.ExecuteAsync("delete from debounces where canvas = @canvas and worker = @worker", new { canvas, worker },
            cancellationToken);

    /// <summary>
    /// Collapses the emit of <paramref name="envelope"/> (a new id) into its key's run, or starts a run with it: a
    /// trailing one stored here (within <paramref name="maxScheduled"/> of the worker, else
    /// <see cref="ScheduledFullException"/>), a leading one for the caller to publish (and
    /// <see cref="ReleaseAsync"/> if that fails). An emit absorbed under an idempotency key hands the key to the run.
    /// A canvas deleted since <c>envelope.CanvasIncarnation</c> is <see cref="CanvasGoneException"/>.
    /// </summary>
    public async Task<DebounceOutcome> EmitAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        Debounce debounce,
        string? idempotencyKey,
        int maxScheduled,
        CancellationToken cancellationToken)
    {
        var (canvas, worker, key) = (envelope.Canvas, envelope.Worker, debounce.Key);
        var now = envelope.EnqueuedAt;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var alive = await connection.ExecuteScalarAsync<int?>(new CommandDefinition($"""
            with {FencedBatch.AliveCanvas("canvas", "incarnation")} select 1 from alive
            """, new { canvas, incarnation = envelope.CanvasIncarnation }, transaction,
            cancellationToken: cancellationToken));
        if (alive is null) throw new CanvasGoneException(canvas);
        // The key's row, made (the first emit of a key) or locked: the emits of one key go one at a time from here.
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into debounces (canvas, worker, debounce_key, event_id, enqueued_at, is_trailing, until_at, max_at,
                absorbed)
            values (@canvas, @worker, @key, @id, @now, @trailing, @now, @now, 0)
            on conflict (canvas, worker, debounce_key) do nothing
            """, new { canvas, worker, key, id = envelope.Id, now = now.UtcDateTime, trailing = debounce.Trailing },
            transaction, cancellationToken: cancellationToken));
        var run = await connection.QuerySingleAsync<(Guid EventId, DateTime EnqueuedAt, bool Trailing, DateTime UntilAt,
            DateTime MaxAt, int Absorbed)>(new CommandDefinition("""
            select event_id, enqueued_at, is_trailing, until_at, max_at, absorbed from debounces
             where canvas = @canvas and worker = @worker and debounce_key = @key for update
            """, new { canvas, worker, key }, transaction, cancellationToken: cancellationToken));
        DebounceOutcome? absorbed = null;
        if (run.Absorbed > 0 && run.Trailing)
        {
            // Its run is still waiting (not published, not cancelled): this emit's event and a period more. A pump
            // publishing it holds the row; this waits for that commit, and then finds it gone.
            var moved = await connection.QuerySingleOrDefaultAsync<(DateTime RunAt, int Absorbed)?>(
                new CommandDefinition("""
                update scheduled_events set body = @body, trace_parent = @traceParent, absorbed = absorbed + 1,
                    run_at = least(@due, @maxAt)
                 where event_id = @id and canvas = @canvas and suspended is null
                returning run_at, absorbed
                """, new
                {
                    body = body.ToArray(),
                    traceParent = envelope.TraceParent,
                    due = (now + debounce.Period).UtcDateTime,
                    maxAt = run.MaxAt,
                    id = run.EventId,
                    canvas,
                }, transaction, cancellationToken: cancellationToken));
            if (moved is { } m)
                absorbed = new DebounceOutcome(run.EventId, UnhandledStore.Utc(run.EnqueuedAt), false,
                    UnhandledStore.Utc(m.RunAt), m.Absorbed);
        }
        else if (run.Absorbed > 0 && now.UtcDateTime < run.UntilAt)
            absorbed = new DebounceOutcome(run.EventId, UnhandledStore.Utc(run.EnqueuedAt), false, null,
                run.Absorbed + 1);
        if (absorbed is { } into)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                update debounces set absorbed = @absorbed, until_at = coalesce(@runAt, until_at)
                 where canvas = @canvas and worker = @worker and debounce_key = @key;
                update idempotency_keys set event_id = @runId, enqueued_at = @runEnqueuedAt
                 where @idempotencyKey::text is not null and canvas = @canvas and key = @idempotencyKey
                   and event_id = @id;
                """, new
            {
                absorbed = into.Absorbed,
                runAt = into.RunAt?.UtcDateTime,
                canvas,
                worker,
                key,
                runId = into.Id,
                runEnqueuedAt = into.EnqueuedAt.UtcDateTime,
                idempotencyKey,
                id = envelope.Id,
            }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            return into;
        }

        // A run of its own: the key's first emit, or the first since its last run was published, cancelled or its
        // period ended.
        var maxAt = now + debounce.Max;
        var runAt = debounce.Trailing ? Min(now + debounce.Period, maxAt) : now;
        await connection.ExecuteAsync(new CommandDefinition("""
            update debounces set event_id = @id, enqueued_at = @now, is_trailing = @trailing, until_at = @untilAt,
                max_at = @maxAt, absorbed = 1
             where canvas = @canvas and worker = @worker and debounce_key = @key
            """, new
        {
            id = envelope.Id,
            now = now.UtcDateTime,
            trailing = debounce.Trailing,
            untilAt = (debounce.Trailing ? runAt : now + debounce.Period).UtcDateTime,
            maxAt = maxAt.UtcDateTime,
            canvas,
            worker,
            key,
        }, transaction, cancellationToken: cancellationToken));
        if (debounce.Trailing)
        {
            var stored = await connection.ExecuteScalarAsync<int?>(new CommandDefinition("""
                insert into scheduled_events (event_id, canvas, worker, enqueued_at, run_at, depth, trace_parent, body,
                    ordering_key, debounce_key, absorbed, priority)
                select @id, @canvas, @worker, @now, @runAt, @depth, @traceParent, @body, @orderingKey, @key, 1,
                    @priority
                 where (select count(*) from scheduled_events where canvas = @canvas and worker = @worker)
                     < @maxScheduled
                returning 1
                """, new
            {
                id = envelope.Id,
                canvas,
                worker,
                now = now.UtcDateTime,
                runAt = runAt.UtcDateTime,
                depth = envelope.Depth,
                traceParent = envelope.TraceParent,
                body = body.ToArray(),
                orderingKey = envelope.OrderingKey,
                key,
                priority = (short)envelope.Priority,
                maxScheduled,
            }, transaction, cancellationToken: cancellationToken));
            if (stored is null) throw new ScheduledFullException(canvas, worker, maxScheduled);
            // Delivered at commit: a pump sleeping towards a later event wakes for this one.
            await connection.ExecuteAsync(new CommandDefinition(
                $"select pg_notify('{ScheduledEventStore.Channel}', '')", transaction: transaction,
                cancellationToken: cancellationToken));
        }
        await transaction.CommitAsync(cancellationToken);
        return new DebounceOutcome(envelope.Id, now, true, debounce.Trailing ? runAt : null, 1);
    }

    /// <summary>A leading run that could not be published: its key starts afresh, so the client's retry runs.</summary>
    public Task ReleaseAsync(string canvas, string worker, string key, Guid eventId,
        CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            delete from debounces where canvas = @canvas and worker = @worker and debounce_key = @key
               and event_id = @eventId
            """, new { canvas, worker, key, eventId }, cancellationToken);

    /// <summary>The keys whose period ended over <see cref="Retention"/> ago and whose run is not waiting.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            delete from debounces d
             where d.until_at < @before
               and not exists (select 1 from scheduled_events s where s.event_id = d.event_id)
            """, new { before = DateTime.UtcNow - Retention }, cancellationToken: cancellationToken));
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
