using System.Runtime.ExceptionServices;
using Dapper;
using Npgsql;
using Workq.Shared.Handlers;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

/// <summary>
/// The unhandled ("404") list: events emitted to workers that do not exist, kept until the worker is created.
/// </summary>
public sealed class UnhandledStore(NpgsqlDataSource db) : ICanvasData
{
    public Task DeleteCanvasAsync(string canvas, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "delete from unhandled_events where canvas = @canvas; delete from unhandled_dropped where canvas = @canvas",
            new { canvas },
            cancellationToken);

    /// <summary>
    /// Parks the event, unless its canvas was deleted or re-created since it was emitted (a canvas deleted meanwhile
    /// takes its events with it), or it names a worker incarnation that is gone (a retry or redrive of a deleted
    /// worker: that worker's events went with it).
    /// </summary>
    public async Task ParkAsync(EventEnvelope envelope, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition($"""
            with {FencedBatch.AliveCanvas("Canvas", "CanvasIncarnation")}
            insert into unhandled_events (canvas, worker, event_id, enqueued_at, depth, trace_parent, body,
                ordering_key, priority)
            select @Canvas, @Worker, @Id, @EnqueuedAt, @Depth, @TraceParent, @body, @OrderingKey, @Priority
             where exists (select 1 from alive)
               and (@WorkerIncarnation = 0 or exists (select 1 from workers w where w.canvas = @Canvas and w.name =
                   @Worker and w.incarnation = @WorkerIncarnation and not w.deleting))
            """, DataSourceCommands.EventParameters(envelope, body),
            cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Keeps at most <paramref name="maxPerWorker"/> parked events per name, dropping the oldest and counting them.
    /// </summary>
    public async Task TrimAsync(int maxPerWorker, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            with ranked as (
                select seq, canvas, worker, row_number() over (partition by canvas, worker order by enqueued_at desc,
                    seq desc) as n from unhandled_events),
            dropped as (
                delete from unhandled_events u using ranked r where u.seq = r.seq and r.n > @maxPerWorker returning
                    u.canvas, u.worker)
            insert into unhandled_dropped (canvas, worker, dropped)
            select canvas, worker, count(*) from dropped group by canvas, worker
            on conflict (canvas, worker) do update set dropped = unhandled_dropped.dropped + excluded.dropped
            """, new { maxPerWorker }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<UnhandledSummary>> ListAsync(string canvas, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(
            string Worker,
            long Count,
            DateTime FirstSeen,
            DateTime LastSeen,
            byte[] Sample,
            long? Dropped)>(new CommandDefinition("""
            select u.worker, u.count, u.first_seen, u.last_seen,
                   (select body from unhandled_events s where s.canvas = @canvas and s.worker = u.worker order by
                       enqueued_at desc, seq desc limit 1),
                   d.dropped
              from (select worker, count(*) as count, min(received_at) as first_seen, max(received_at) as last_seen
                      from unhandled_events where canvas = @canvas group by worker) u
              left join unhandled_dropped d on d.canvas = @canvas and d.worker = u.worker
             order by u.last_seen desc
            """, new { canvas }, cancellationToken: cancellationToken));
        return rows.Select(r => new UnhandledSummary(
            r.Worker,
            r.Count,
            Utc(r.FirstSeen),
            Utc(r.LastSeen),
            System.Text.Encoding.UTF8.GetString(r.Sample),
            r.Dropped ?? 0)).ToList();
    }

    /// <summary>
    /// The parked copies of one event on a canvas (more than one only if it was emitted to a missing worker twice).
    /// </summary>
    public async Task<IReadOnlyList<UnhandledEvent>> FindAsync(
        string canvas,
        Guid eventId,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(
            string Worker,
            byte[] Body,
            DateTime EnqueuedAt,
            DateTime ReceivedAt)>(new CommandDefinition("""
            select worker, body, enqueued_at, received_at from unhandled_events
             where event_id = @eventId and canvas = @canvas order by seq desc
            """, new { canvas, eventId }, cancellationToken: cancellationToken));
        return rows.Select(
            r => new UnhandledEvent(
                r.Worker,
                JsonText.ParseOrString(r.Body),
                Utc(r.EnqueuedAt),
                Utc(r.ReceivedAt))).ToList();
    }

    /// <returns>How many parked events were dropped.</returns>
    public async Task<int> DropAsync(string canvas, string worker, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            delete from unhandled_dropped where canvas = @canvas and worker = @worker;
            delete from unhandled_events where canvas = @canvas and worker = @worker;
            """, new { canvas, worker }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Moves parked events of workers that now exist back into their queues, oldest first. Rows are locked
    /// (skip locked) while published and deleted only after the broker confirmed them, so several
    /// dispatchers never replay the same event and a crash midway replays rather than loses. When the broker refuses
    /// one (its worker's queue is full), those confirmed before it are deleted and the error is thrown: the rest stay
    /// parked. Unless <paramref name="giveUp"/> gives up on the refused one: then it moves to the quarantine, in the
    /// same transaction.
    /// </summary>
    /// <returns>How many parked events were taken, and the one quarantined with its quarantine id, if any.</returns>
    public async Task<(int Replayed, (QuarantineEntry Entry, long Id)? Quarantined)> ReplayAsync(
        Func<ParkedEvent, Task> publish,
        CancellationToken cancellationToken,
        Func<ParkedEvent, Exception, Task<QuarantineEntry?>>? giveUp = null)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Stamped with the incarnations they go to (a parked row is never another canvas incarnation's: parking holds
        // the canvas alive, and its deletion removes them all); a worker being deleted gets none.
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition("""
            select u.seq, u.canvas, u.worker, u.event_id, u.enqueued_at, u.depth, u.trace_parent, u.body,
                u.ordering_key, u.priority,
                   c.incarnation as canvas_incarnation, w.incarnation as worker_incarnation
              from unhandled_events u
              join workers w on w.canvas = u.canvas and w.name = u.worker and not w.deleting
              join canvases c on c.name = u.canvas
             order by u.enqueued_at, u.seq
             limit 1000
               for update of u skip locked
            """, transaction: transaction, cancellationToken: cancellationToken))).ToList();
        if (rows.Count == 0) return (0, null);
        var (published, error) = await Row.PublishInOrderAsync(rows, publish);
        var refused = error is not null && published.Length < rows.Count ? rows[published.Length] : null;
        var quarantined = refused is not null && giveUp is not null
            ? await giveUp(refused.ToParked(), error!.SourceException)
            : null;
        var quarantineId = 0L;
        if (quarantined is not null)
        {
            quarantineId = await QuarantineStore.AddAsync(quarantined, connection, transaction, cancellationToken);
            published = [.. published, refused!.Seq];
        }
        await connection.ExecuteAsync(new CommandDefinition("delete from unhandled_events where seq = any(@seqs)",
            new { seqs = published }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            delete from unhandled_dropped d where not exists (select 1 from unhandled_events u where u.canvas = d.canvas
                and u.worker = d.worker)
               and exists (select 1 from workers w where w.canvas = d.canvas and w.name = d.worker)
            """, transaction: transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        if (quarantined is null) error?.Throw();
        return (rows.Count, quarantined is null ? null : (quarantined, quarantineId));
    }

    internal static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    internal sealed class Row
    {
        public long Seq { get; set; }
        public string Canvas { get; set; } = "";
        public string Worker { get; set; } = "";
        public Guid Event_Id { get; set; }
        public DateTime Enqueued_At { get; set; }
        public int Depth { get; set; }
        public string? Trace_Parent { get; set; }
        public byte[] Body { get; set; } = [];
        public string? Ordering_Key { get; set; }
        public short Priority { get; set; }
        public long Canvas_Incarnation { get; set; }
        public long Worker_Incarnation { get; set; }

        public ParkedEvent ToParked() =>
            new(Seq, new EventEnvelope(
                Event_Id,
                Canvas,
                Worker,
                Utc(Enqueued_At),
                Depth,
                Trace_Parent,
                Ordering_Key,
                Canvas_Incarnation,
                Worker_Incarnation,
                Priority: (Handlers.Messaging.Priority)Priority), Body);

        /// <summary>
        /// Publishes the rows oldest first, each confirmed before the next (replays and redrives promise that order).
        /// Returns the seqs confirmed and the error that stopped it, if any: those before it are in their queue, and
        /// deleting them keeps the next try from enqueuing them twice.
        /// </summary>
        public static async Task<(long[] Published, ExceptionDispatchInfo? Error)> PublishInOrderAsync(
            IReadOnlyList<Row> rows,
            Func<ParkedEvent, Task> publish)
        {
            var published = new List<long>(rows.Count);
            try
            {
                foreach (var row in rows)
                {
                    await publish(row.ToParked());
                    published.Add(row.Seq);
                }
                return ([.. published], null);
            }
            catch (Exception e)
            {
                return ([.. published], ExceptionDispatchInfo.Capture(e));
            }
        }
    }
}
