using System.Text;
using Dapper;
using Npgsql;
using Workq.Shared.Handlers;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>
/// Events the broker gave up on (delivery limit) or that exhausted a retry policy, kept per worker, one row per event.
/// </summary>
public sealed class DeadLetterStore(NpgsqlDataSource db) : ICanvasData, IWorkerData
{
    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync("delete from dead_letters where canvas = @canvas", new { canvas }, cancellationToken);

    public Task DeleteWorkerAsync(string canvas, string worker, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "delete from dead_letters where canvas = @canvas and worker = @worker",
            new { canvas, worker },
            cancellationToken);

    /// <summary>
    /// Keeps the dead letter, counted in its worker's counters and metrics. Only for the worker and canvas incarnations
    /// the envelope names (0: the ones alive), the worker row held meanwhile (FOR KEY SHARE: the statement updates its
    /// counter, see <see cref="FencedBatch.WorkersAsync"/>): false, keeping nothing, when they were deleted or
    /// re-created since.
    /// </summary>
    public async Task<bool> AddAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        string reason,
        int attempts,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
            with alive as (
                select 1 from workers w join canvases c on c.name = w.canvas
                 where w.canvas = @Canvas and w.name = @Worker and not w.deleting
                   and (@WorkerIncarnation = 0 or w.incarnation = @WorkerIncarnation) and (@CanvasIncarnation = 0 or
                       c.incarnation = @CanvasIncarnation)
                   for key share of w),
            kept as (
                insert into dead_letters (canvas, worker, event_id, enqueued_at, depth, trace_parent, body, body_text,
                    reason, attempts, ordering_key, priority)
                select @Canvas, @Worker, @Id, @EnqueuedAt, @Depth, @TraceParent, @body, @bodyText, @reason, @attempts,
                    @OrderingKey, @Priority
                 where exists (select 1 from alive)
                    on conflict (canvas, worker, event_id) do update
                   set reason = excluded.reason, attempts = excluded.attempts, body = excluded.body, body_text =
                       excluded.body_text, dead_lettered_at = now()
                returning (xmax = 0) as inserted),
            -- Counted once per event: a second copy of the same dead letter only refreshes the row.
            counted as (
                update workers set dead_lettered = dead_lettered + 1
                 where canvas = @Canvas and name = @Worker and exists (select 1 from kept where inserted)
                returning 1),
            -- ... and in the minute it was dead-lettered (MetricsStore).
            minute as (
                insert into metrics_minute as m (canvas, worker, at, dead_lettered)
                select @Canvas, @Worker, date_bin('1 minute', now(), timestamptz '1970-01-01Z'), 1 from counted
                    on conflict (canvas, worker, at) do update set dead_lettered = m.dead_lettered + 1)
            select exists (select 1 from kept)
            """, Parameters(envelope, body, reason, attempts),
            cancellationToken: cancellationToken));
    }

    public async Task TrimAsync(int maxPerWorker, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            delete from dead_letters d using (
                select seq, row_number() over (partition by canvas, worker order by seq desc) as n from dead_letters) r
             where d.seq = r.seq and r.n > @maxPerWorker
            """, new { maxPerWorker }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// A page of the dead letters the filter selects, newest first (then by id), and where the next page starts.
    /// </summary>
    public async Task<DeadLetterPage> SearchAsync(
        string canvas,
        string worker,
        DeadLetterFilter filter,
        PageCursor? after,
        int limit,
        CancellationToken cancellationToken)
    {
        var (where, args) = Where(canvas, worker, filter);
        if (after is not null)
        {
            where += " and (dead_lettered_at, event_id) < (@afterAt, @afterId)";
            args.Add("afterAt", after.At.UtcDateTime);
            args.Add("afterId", after.Id);
        }
        // One row more than asked says whether there is a next page without counting.
        args.Add("take", limit + 1);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(
            Guid EventId,
            byte[] Body,
            string Reason,
            int Attempts,
            DateTime DeadLetteredAt)>(new CommandDefinition($"""
            select event_id, body, reason, attempts, dead_lettered_at from dead_letters
             where {where} order by dead_lettered_at desc, event_id desc limit @take
            """, args, cancellationToken: cancellationToken))).ToList();
        var items = rows.Take(limit).Select(r => new DeadLetter(
            r.EventId,
            JsonText.ParseOrString(r.Body),
            r.Reason,
            r.Attempts,
            UnhandledStore.Utc(r.DeadLetteredAt))).ToList();
        return new DeadLetterPage(
            items,
            rows.Count > limit ? new PageCursor(items[^1].DeadLetteredAt, items[^1].Id) : null);
    }

    /// <summary>The dead letters of one event on a canvas, with the worker each belongs to.</summary>
    public async Task<IReadOnlyList<(string Worker, DeadLetter Letter)>> FindAsync(
        string canvas,
        Guid eventId,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(
            string Worker,
            byte[] Body,
            string Reason,
            int Attempts,
            DateTime DeadLetteredAt)>(new CommandDefinition("""
            select worker, body, reason, attempts, dead_lettered_at from dead_letters
             where event_id = @eventId and canvas = @canvas order by seq desc
            """, new { canvas, eventId }, cancellationToken: cancellationToken));
        return rows.Select(r => (r.Worker, new DeadLetter(
            eventId,
            JsonText.ParseOrString(r.Body),
            r.Reason,
            r.Attempts,
            UnhandledStore.Utc(r.DeadLetteredAt)))).ToList();
    }

    public async Task<int> DiscardAsync(
        string canvas,
        string worker,
        DeadLetterFilter filter,
        CancellationToken cancellationToken)
    {
        var (where, args) = Where(canvas, worker, filter);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(
            new CommandDefinition(
                $"delete from dead_letters where {where}",
                args,
                cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Puts a worker's dead letters the filter selects back into its queue, oldest first (with the attempt count
    /// starting over), deleting each once confirmed. When the broker refuses one (the queue is full), those before it
    /// are deleted and the error is thrown: the rest stay.
    /// </summary>
    public async Task<int> RedriveAsync(
        WorkerRecord worker,
        DeadLetterFilter filter,
        Func<ParkedEvent, Task> publish,
        CancellationToken cancellationToken)
    {
        var (where, args) = Where(worker.Canvas, worker.Name, filter);
        args.Add("canvasIncarnation", worker.CanvasIncarnation);
        args.Add("workerIncarnation", worker.Incarnation);
        var total = 0;
        while (true)
        {
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // Only while that incarnation of the worker is alive, and stamped with it: its deletion waits for these
            // rows, and a redriven event that outlives it anyway (a retry in a delay queue) is dropped by a worker
            // deployed again under its name.
            var rows = (await connection.QueryAsync<UnhandledStore.Row>(new CommandDefinition($"""
                select seq, canvas, worker, event_id, enqueued_at, depth, trace_parent, body, ordering_key, priority,
                       @canvasIncarnation as canvas_incarnation, @workerIncarnation as worker_incarnation
                  from dead_letters
                 where {where} and exists (select 1 from workers w where w.canvas = @canvas and w.name = @worker and
                     w.incarnation = @workerIncarnation and not w.deleting)
                 order by seq limit 1000 for update skip locked
                """, args, transaction, cancellationToken: cancellationToken))).ToList();
            if (rows.Count == 0) return total;
            var (published, error) = await UnhandledStore.Row.PublishInOrderAsync(rows, publish);
            await connection.ExecuteAsync(new CommandDefinition("delete from dead_letters where seq = any(@seqs)",
                new { seqs = published }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            error?.Throw();
            total += rows.Count;
        }
    }

    private static (string Sql, DynamicParameters Args) Where(string canvas, string worker, DeadLetterFilter filter)
    {
        var sql = new StringBuilder("canvas = @canvas and worker = @worker");
        var args = new DynamicParameters(new { canvas, worker });
        if (filter.Q is { } q)
        {
            sql.Append(" and (reason ilike @q or body_text ilike @q)");
            args.Add("q", "%" + Like(TenantText.Store(q)) + "%");
        }
        if (filter.Reason is { } reason)
        {
            sql.Append(" and reason ilike @reason");
            args.Add("reason", Like(TenantText.Store(reason)) + "%");
        }
        if (filter.From is { } from)
        {
            sql.Append(" and dead_lettered_at >= @from");
            args.Add("from", from.UtcDateTime);
        }
        if (filter.To is { } to)
        {
            sql.Append(" and dead_lettered_at < @to");
            args.Add("to", to.UtcDateTime);
        }
        return (sql.ToString(), args);
    }

    private static DynamicParameters Parameters(
        in EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        string reason,
        int attempts)
    {
        var parameters = DataSourceCommands.EventParameters(envelope, body);
        parameters.Add("bodyText", SearchText(body.Span));
        parameters.Add("reason", TenantText.Store(reason));
        parameters.Add("attempts", attempts);
        return parameters;
    }

    /// <summary>
    /// The text the payload is searched as: bytes that are not UTF-8 become U+FFFD, and it is stored by <see
    /// cref="TenantText"/>'s rule.
    /// </summary>
    private static string SearchText(ReadOnlySpan<byte> body) => TenantText.Store(Encoding.UTF8.GetString(body));

    private static string Like(string text) => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
}
