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

    /// <summary>
    /// A group's suspensions: a fence read per canvas, then three statements whatever the group's size (a statement per
    /// suspension kept a burst waiting on round trips, each slower on a busy machine): the early signals the waits
    /// take, the ends kept, then the resumes and their marks.
    /// </summary>
    private static async Task<DateTimeOffset[]> WriteSuspensionsAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<PendingSuspension> batch)
    {
        var cancellationToken = CancellationToken.None;
        var alive = new Dictionary<(string Canvas, long Incarnation), bool>();
        foreach (var canvasOf in batch.Select(p => (p.Envelope.Canvas, p.Envelope.CanvasIncarnation)).Distinct()
            .OrderBy(c => c.Canvas, StringComparer.Ordinal))
            alive[canvasOf] = await AliveAsync(connection, transaction, canvasOf.Canvas, canvasOf.CanvasIncarnation,
                cancellationToken);
        var runAts = batch.Select(p => p.Suspension.Until).ToArray();
        // In the events' order, so that two instances' transactions lock the rows they share in the same order.
        var suspending = Enumerable.Range(0, batch.Count)
            .Where(i => alive[(batch[i].Envelope.Canvas, batch[i].Envelope.CanvasIncarnation)])
            .OrderBy(i => batch[i].Envelope.Id)
            .ToList();
        if (suspending.Count == 0) return runAts;

        var signals = await TakeEarlySignalsAsync(connection, transaction, batch, suspending);
        // Each event's end under its key, unless one is kept there already (the first kept stays). One row per key in
        // the statement: an insert may not touch a row twice.
        var ends = suspending.Select(i =>
            {
                var (envelope, _, suspension) = batch[i];
                return signals.TryGetValue((envelope.Canvas, envelope.Id), out var signalled)
                    ? (envelope.Canvas, envelope.Id, Key: suspension.Key, Value: signalled)
                    : (envelope.Canvas, envelope.Id, Key: TimeKey(suspension),
                        Value: HandlerSteps.TimeJson(suspension.Until));
            })
            .DistinctBy(e => (e.Canvas, e.Id, e.Key))
            .ToList();
        var stored = (await connection.QueryAsync<(string Canvas, Guid EventId, string Key, byte[] Value)>(
            new CommandDefinition("""
                insert into event_steps (canvas, event_id, key, value)
                select * from unnest(@canvases, @eventIds, @keys, @values) as e(canvas, event_id, key, value)
                 order by event_id
                    on conflict (canvas, event_id, key) do update set value = event_steps.value
                returning canvas, event_id, key, value
                """, new
            {
                canvases = ends.ConvertAll(e => e.Canvas).ToArray(),
                eventIds = ends.ConvertAll(e => e.Id).ToArray(),
                keys = ends.ConvertAll(e => e.Key).ToArray(),
                values = ends.ConvertAll(e => e.Value).ToArray(),
            }, transaction, cancellationToken: cancellationToken)))
            .ToDictionary(e => (e.Canvas, e.EventId, e.Key), e => e.Value);
        foreach (var i in suspending)
        {
            var (envelope, _, suspension) = batch[i];
            runAts[i] = signals.ContainsKey((envelope.Canvas, envelope.Id))
                ? DateTimeOffset.UtcNow
                : HandlerSteps.ReadTime(stored[(envelope.Canvas, envelope.Id, TimeKey(suspension))]);
        }
        // One resume per event (the latest): an insert may not touch a row twice.
        var resumes = suspending.GroupBy(i => batch[i].Envelope.Id).Select(g => g.MaxBy(i => batch[i].Envelope.Resume))
            .Select(i => (Pending: batch[i], RunAt: runAts[i]))
            .ToList();
        await connection.ExecuteAsync(new CommandDefinition($"""
            insert into scheduled_events (event_id, canvas, worker, enqueued_at, run_at, depth, trace_parent, body,
                ordering_key, batch_id, callback_of, resume, suspended, wait_name, wait_key, priority)
            select * from unnest(@eventIds, @canvases, @workers, @enqueuedAts, @runAts, @depths, @traceParents, @bodies,
                    @orderingKeys, @batchIds, @callbackOfs, @resumes, @suspendeds, @waitNames, @waitKeys, @priorities)
             order by 1
            -- Not "do nothing": the resume a run came from may still be there, its pump about to delete it as it
            -- commits the publish. An update waits for that commit, then inserts; nothing would have been lost quietly.
            on conflict (event_id) do update
                set run_at = excluded.run_at, resume = excluded.resume, suspended = excluded.suspended,
                    wait_name = excluded.wait_name, wait_key = excluded.wait_key
              where scheduled_events.resume < excluded.resume;
            -- The suspensions' marks: a redelivery of a run that suspended, its ack lost, is stale (SupersededAsync).
            insert into event_steps (canvas, event_id, key, value)
            select canvas, event_id, key, '\x31' from unnest(@canvases, @eventIds, @marks) as m(canvas, event_id, key)
                on conflict do nothing;
            select pg_notify('{ScheduledEventStore.Channel}', '');
            """, new
        {
            eventIds = resumes.ConvertAll(r => r.Pending.Envelope.Id).ToArray(),
            canvases = resumes.ConvertAll(r => r.Pending.Envelope.Canvas).ToArray(),
            workers = resumes.ConvertAll(r => r.Pending.Envelope.Worker).ToArray(),
            enqueuedAts = resumes.ConvertAll(r => r.Pending.Envelope.EnqueuedAt.UtcDateTime).ToArray(),
            runAts = resumes.ConvertAll(r => r.RunAt.UtcDateTime).ToArray(),
            depths = resumes.ConvertAll(r => r.Pending.Envelope.Depth).ToArray(),
            traceParents = resumes.ConvertAll(r => r.Pending.Envelope.TraceParent).ToArray(),
            bodies = resumes.ConvertAll(r => r.Pending.Body).ToArray(),
            orderingKeys = resumes.ConvertAll(r => r.Pending.Envelope.OrderingKey).ToArray(),
            batchIds = resumes.ConvertAll(r => r.Pending.Envelope.BatchId).ToArray(),
            callbackOfs = resumes.ConvertAll(r => r.Pending.Envelope.CallbackOf).ToArray(),
            resumes = resumes.ConvertAll(r => r.Pending.Envelope.Resume + 1).ToArray(),
            suspendeds = resumes.ConvertAll(r => r.Pending.Suspension.Status).ToArray(),
            waitNames = resumes.ConvertAll(r => r.Pending.Suspension.WaitName).ToArray(),
            waitKeys = resumes.ConvertAll(r =>
                r.Pending.Suspension.Kind == SuspensionKind.Wait ? r.Pending.Suspension.Key : null).ToArray(),
            priorities = resumes.ConvertAll(r => (short)r.Pending.Envelope.Priority).ToArray(),
            marks = resumes.ConvertAll(r => ResumeMark(r.Pending.Envelope.Resume + 1)).ToArray(),
        }, transaction, cancellationToken: cancellationToken));
        return runAts;
    }

    /// <summary>The key a suspension's end is kept under: a sleep's own, a wait's deadline.</summary>
    private static string TimeKey(Suspension suspension) =>
        suspension.Kind == SuspensionKind.Wait ? HandlerSteps.DeadlineKey(suspension.Key) : suspension.Key;

    /// <summary>
    /// The signals sent ahead of the group's waits, taken (deleted) as their waits begin: by canvas and event, the
    /// value of the one its wait names.
    /// </summary>
    private static async Task<Dictionary<(string Canvas, Guid EventId), byte[]>> TakeEarlySignalsAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        IReadOnlyList<PendingSuspension> batch,
        List<int> suspending)
    {
        var waits = suspending.Where(i => batch[i].Suspension.Kind == SuspensionKind.Wait).ToList();
        if (waits.Count == 0) return [];
        return (await connection.QueryAsync<(string Canvas, Guid EventId, byte[] Value)>(new CommandDefinition("""
            delete from event_signals s using unnest(@canvases, @eventIds, @names) as w(canvas, event_id, name)
             where s.canvas = w.canvas and s.event_id = w.event_id and s.name = w.name and s.sent_at > @since
            returning s.canvas, s.event_id, s.value
            """, new
        {
            canvases = waits.ConvertAll(i => batch[i].Envelope.Canvas).ToArray(),
            eventIds = waits.ConvertAll(i => batch[i].Envelope.Id).ToArray(),
            names = waits.ConvertAll(i => batch[i].Suspension.WaitName).ToArray(),
            since = DateTime.UtcNow - EarlySignalLife,
        }, transaction, cancellationToken: CancellationToken.None)))
            .DistinctBy(s => (s.Canvas, s.EventId))
            .ToDictionary(s => (s.Canvas, s.EventId), s => s.Value);
    }

    /// <summary>A run's suspension waiting for its transaction.</summary>
    private sealed record PendingSuspension(EventEnvelope Envelope, byte[] Body, Suspension Suspension);
}
