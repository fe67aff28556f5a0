using System.Threading.Channels;
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

    private readonly Channel<PendingSuspension> suspensions = Channel.CreateUnbounded<PendingSuspension>(
        new UnboundedChannelOptions { SingleReader = true });

    private int suspending;

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
    public async Task<DateTimeOffset> SuspendAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> body,
        Suspension suspension,
        CancellationToken cancellationToken)
    {
        // A copy: the delivery's body is the broker client's buffer, which it may reuse once its caller stops waiting.
        var pending = new PendingSuspension(envelope, body.ToArray(), suspension);
        suspensions.Writer.TryWrite(pending);
        if (Interlocked.CompareExchange(ref suspending, 1, 0) == 0)
            _ = Task.Run(WriteSuspensionsAsync, CancellationToken.None);
        return await pending.Written.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Writes what is pending, a transaction at a time, until nothing is; the next suspension starts it again. The
    /// transactions run to their end whoever stops waiting for them: a resume stored for a delivery given back
    /// meanwhile is one more run of the event, as a redelivery is.
    /// </summary>
    private async Task WriteSuspensionsAsync()
    {
        while (true)
        {
            var batch = new List<PendingSuspension>();
            while (batch.Count < MaxSuspensionsPerCommit && suspensions.Reader.TryRead(out var next)) batch.Add(next);
            if (batch.Count == 0)
            {
                Volatile.Write(ref suspending, 0);
                // One written between the read and the release found the loop running: take it up again.
                if (!suspensions.Reader.TryPeek(out _) || Interlocked.CompareExchange(ref suspending, 1, 0) != 0)
                    return;
                continue;
            }
            try
            {
                var runAts = await WriteSuspensionsAsync(batch);
                for (var i = 0; i < batch.Count; i++) batch[i].Written.TrySetResult(runAts[i]);
            }
            catch (Exception e)
            {
                foreach (var pending in batch) pending.Written.TrySetException(e);
            }
        }
    }

    private async Task<DateTimeOffset[]> WriteSuspensionsAsync(List<PendingSuspension> batch)
    {
        var cancellationToken = CancellationToken.None;
        await slots.WaitAsync(cancellationToken);
        using var slot = new Slot(slots);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
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
        await transaction.CommitAsync(cancellationToken);
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
                ordering_key, batch_id, callback_of, resume, suspended, wait_name, wait_key)
            select @eventId, @canvas, @worker, @enqueuedAt, @runAt, @depth, @traceParent, @body, @orderingKey,
                @batchId, @callbackOf, @resume, @suspended, @waitName, @waitKey
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
            mark = ResumeMark(envelope.Resume + 1),
        }, transaction, cancellationToken: cancellationToken));
        return runAt;
    }

    /// <summary>A run's suspension waiting for its transaction.</summary>
    private sealed record PendingSuspension(EventEnvelope Envelope, byte[] Body, Suspension Suspension)
    {
        public TaskCompletionSource<DateTimeOffset> Written { get; } =
            new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
