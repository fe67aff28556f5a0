using Dapper;
using Npgsql;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Messaging;

namespace Workq.Shared.Storage;

public sealed partial class StepStore
{
    /// <summary>Suspensions written in one transaction at most.</summary>
    private const int MaxSuspensionsPerCommit = 256;

    private GroupCommit<PendingSuspension, DateTimeOffset>? suspensions;

    /// <summary>
    /// Ends a run in its <paramref name="suspension"/> before its delivery is acked: the sleep's end (or the wait's
    /// time-out) is kept under its key, where a run again of the event finds it (the first one kept stays), and the
    /// event's resume is stored for the dispatchers' pump, due then. A wait whose signal was sent ahead takes it now
    /// and is due at once. Answers when the event runs again; nothing is stored for a canvas deleted since.
    /// </summary>
    /// <remarks>
    /// Group commit: the suspensions of the runs ending meanwhile share one transaction (one commit, one wake of the
    /// pump). A burst of 10,000 events falling asleep otherwise waits on a commit each, through the 12 slots.
    /// </remarks>
    public Task<DateTimeOffset> SuspendAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        Suspension suspension,
        CancellationToken cancellationToken)
    {
        var group = LazyInitializer.EnsureInitialized(ref suspensions,
            () => new GroupCommit<PendingSuspension, DateTimeOffset>(db, slots, MaxSuspensionsPerCommit,
                WriteSuspensionsAsync));
        // A copy: the delivery's body is the broker client's buffer, which it may reuse once its caller stops waiting.
        return group.AddAsync(new PendingSuspension(envelope, body.ToArray(), suspension), cancellationToken);
    }

    private static async Task<DateTimeOffset[]> WriteSuspensionsAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<PendingSuspension> batch)
    {
        var cancellationToken = CancellationToken.None;
        var alive = new Dictionary<(string, long), bool>();
        var runAts = new DateTimeOffset[batch.Count];
        // In the events' order, so that two instances' transactions lock the rows they share in the same order.
        foreach (var i in Enumerable.Range(0, batch.Count).OrderBy(i => batch[i].Envelope.Id))
        {
            var (envelope, body, suspension) = (batch[i].Envelope, batch[i].Body, batch[i].Suspension);
            var canvasOf = (envelope.Canvas, envelope.CanvasIncarnation);
            if (!alive.TryGetValue(canvasOf, out var isAlive))
                alive[canvasOf] = isAlive = await AliveAsync(connection, transaction, envelope.Canvas,
                    envelope.CanvasIncarnation, cancellationToken);
            runAts[i] = isAlive
                ? await SuspendOneAsync(connection, transaction, envelope, body, suspension, cancellationToken)
                : suspension.Until;
        }
        if (alive.ContainsValue(true))
            await connection.ExecuteAsync(new CommandDefinition(
                $"select pg_notify('{ScheduledEventStore.Channel}', '')", transaction: transaction,
                cancellationToken: cancellationToken));
        return runAts;
    }

    private static async Task<DateTimeOffset> SuspendOneAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        EventEnvelope envelope,
        byte[] body,
        Suspension suspension,
        CancellationToken cancellationToken)
    {
        var (canvas, eventId) = (envelope.Canvas, envelope.Id);
        byte[]? signalled = null;
        if (suspension.Kind == SuspensionKind.Wait)
            signalled = await connection.QuerySingleOrDefaultAsync<byte[]>(new CommandDefinition("""
                delete from event_signals
                 where canvas = @canvas and event_id = @eventId and name = @name and sent_at > @since
                returning value
                """, new { canvas, eventId, name = suspension.WaitName, since = DateTime.UtcNow - EarlySignalLife },
                transaction, cancellationToken: cancellationToken));
        var (key, value) = signalled is not null
            ? (suspension.Key, signalled)
            : (suspension.Kind == SuspensionKind.Wait ? HandlerSteps.DeadlineKey(suspension.Key) : suspension.Key,
                HandlerSteps.TimeJson(suspension.Until));
        var kept = await connection.QuerySingleAsync<byte[]>(new CommandDefinition("""
            insert into event_steps (canvas, event_id, key, value) values (@canvas, @eventId, @key, @value)
                on conflict (canvas, event_id, key) do update set value = event_steps.value
            returning value
            """, new { canvas, eventId, key, value }, transaction, cancellationToken: cancellationToken));
        var runAt = signalled is not null ? DateTimeOffset.UtcNow : HandlerSteps.ReadTime(kept);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into scheduled_events (event_id, canvas, worker, enqueued_at, run_at, depth, trace_parent, body,
                ordering_key, batch_id, callback_of, resume, suspended, wait_name, wait_key, priority)
            select @eventId, @canvas, @worker, @enqueuedAt, @runAt, @depth, @traceParent, @body, @orderingKey,
                @batchId, @callbackOf, @resume, @suspended, @waitName, @waitKey, @priority
            -- Not "do nothing": the resume this run came from may still be there, its pump about to delete it as it
            -- commits the publish. An update waits for that commit, then inserts; nothing would have been lost quietly.
            on conflict (event_id) do update
                set run_at = excluded.run_at, resume = excluded.resume, suspended = excluded.suspended,
                    wait_name = excluded.wait_name, wait_key = excluded.wait_key
              where scheduled_events.resume < excluded.resume;
            -- The suspension's mark: a redelivery of this run, its ack lost, is stale (SupersededAsync).
            insert into event_steps (canvas, event_id, key, value) values (@canvas, @eventId, @mark, '\x31')
                on conflict do nothing;
            """, new
        {
            eventId,
            canvas,
            worker = envelope.Worker,
            enqueuedAt = envelope.EnqueuedAt.UtcDateTime,
            runAt = runAt.UtcDateTime,
            depth = envelope.Depth,
            traceParent = envelope.TraceParent,
            body,
            orderingKey = envelope.OrderingKey,
            batchId = envelope.BatchId,
            callbackOf = envelope.CallbackOf,
            resume = envelope.Resume + 1,
            suspended = suspension.Status,
            waitName = suspension.WaitName,
            waitKey = suspension.Kind == SuspensionKind.Wait ? suspension.Key : null,
            priority = (short)envelope.Priority,
            mark = ResumeMark(envelope.Resume + 1),
        }, transaction, cancellationToken: cancellationToken));
        return runAt;
    }

    /// <summary>A run's suspension waiting for its transaction.</summary>
    private sealed record PendingSuspension(EventEnvelope Envelope, byte[] Body, Suspension Suspension);
}
