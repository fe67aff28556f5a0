using Workq.Shared.Configuration;
using Workq.Shared.Handlers;
using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Worker.Emitting;

/// <summary>
/// A handler's <c>Emit</c> and <c>EmitBatch</c>: same canvas, one level deeper, same trace, confirmed like any emit; at
/// most <see cref="EmitLimits.MaxEmitsPerEvent"/> events per run, so one event cannot fan out without bound. A delayed
/// one is stored for the dispatchers' pump instead, under the worker's <see cref="EmitLimits.MaxScheduledPerWorker"/>.
/// </summary>
/// <remarks>
/// Exactly-once fan-out (API.md): the n-th emit of a run gets an id made from the event's id and n, the same in every
/// run of the event. Each is kept as an idempotency key once published (the run's keys in one write as it ends, a
/// batch's at once), and a run after the first (<paramref name="attempt"/> past 1: a retry or a redelivery; or a
/// resume) publishes only the ids no key holds. An emit within a durable step is numbered within the step, its id made
/// from the step's key: a step replayed emits nothing, and the places of the run's other emits do not move. A worker
/// instance that dies between a publish and that write emits the event again when the event runs again: at least once,
/// as everywhere.
/// </remarks>
public sealed class HandlerEmitter(HandlerEmitEdges edges, EventEnvelope parent, int attempt, EmitLimits limits)
    : IHandlerEmitter
{
    public int MaxEventBytes => limits.MaxEventBytes;

    public int MaxStepBytes => limits.MaxStepBytes;

    // A run that is not the event's first: what an earlier one published is not published again.
    private readonly bool again = attempt > 1 || parent.Resume > 0;
    private Dictionary<string, int>? stepPlaces;

    private readonly Lock gate = new();
    private List<EmittedEvent>? emitted;
    private List<(string Key, Guid Id)>? published;
    private bool finished;
    // The place of each emit or batch in the run, and the events counted against the limit.
    private int places;
    private int events;

    /// <summary>
    /// Set once an emit went past the limit: the run fails with it even if the handler caught the exception.
    /// </summary>
    public InvalidOperationException? OverLimit { get; private set; }

    /// <summary>The events this run emitted, in completion order.</summary>
    public IReadOnlyList<EmittedEvent> Emitted
    {
        get
        {
            lock (gate) return emitted is null ? [] : [.. emitted];
        }
    }

    /// <summary>
    /// After the run: whatever the handler left running cannot emit on the event's behalf, and the ids this run
    /// published are kept, so a run again of the event does not publish them twice. Never throws: at worst they are
    /// published again (<see cref="EmittedIds"/> logs it).
    /// </summary>
    public Task FinishAsync()
    {
        List<(string Key, Guid Id)>? keep;
        lock (gate)
        {
            finished = true;
            keep = published;
            published = null;
        }
        return keep is null ? Task.CompletedTask : edges.Kept.KeepAsync(parent.Canvas, parent.CanvasIncarnation, keep);
    }

    public async Task<Guid> EmitAsync(
        string worker,
        ReadOnlyMemory<byte> eventJson,
        EmitOptions options,
        CancellationToken cancellationToken)
    {
        ThrowIfFinished();
        // Checked here whoever serialized it: a runner holds hostile code, and the API holds every emit to the same
        // limit.
        if (eventJson.Length > limits.MaxEventBytes) throw EventJson.TooLarge(limits.MaxEventBytes, eventJson.Length);
        CheckWorker(worker);
        var now = DateTimeOffset.UtcNow;
        var (runAt, timeProblem) = EmitSchedule.Resolve(options.Delay, options.RunAt, now, "delay", "runAt");
        if (timeProblem is not null) throw new ArgumentException($"Emit refused: {timeProblem}");
        if (OrderingKeys.Problem(options.OrderingKey) is { } keyProblem)
            throw new ArgumentException($"Emit refused: orderingKey: {keyProblem}");
        if (options.IdempotencyKey is { } given && IdempotencyKeys.Problem(given) is { } idempotencyProblem)
            throw new ArgumentException($"Emit refused: idempotencyKey: {idempotencyProblem}");
        if (options.Debounce is { } debounced)
        {
            if (Debounces.Problem(debounced) is { } debounceProblem)
                throw new ArgumentException($"Emit refused: debounce: {debounceProblem}");
            if (runAt is not null) throw new ArgumentException(
                "Emit refused: a debounced emit takes no delay or runAt: its period says when it runs.");
            if (options.InBatch) throw new ArgumentException(
                "Emit refused: a debounced emit cannot join the batch (inBatch): it may become another emit's run.");
        }
        var batchId = options.InBatch
            ? parent.BatchId ?? throw new ArgumentException(
                $"Emit refused: inBatch: event {parent.Id} belongs to no batch (Meta.BatchId is null).")
            : (Guid?)null;
        var id = Place(1, options.Step);
        // Microseconds: what PostgreSQL and the message headers keep.
        now = now.AddTicks(-(now.Ticks % 10));
        var envelope = Child(worker, id, now, options.OrderingKey) with
        {
            BatchId = batchId,
            DebounceKey = options.Debounce?.Key,
            Absorbed = options.Debounce is null ? 0 : 1,
            Priority = options.Priority,
        };
        var key = options.IdempotencyKey is { } explicitKey ? TenantText.Store(explicitKey)! : KeyOf(envelope.Id);
        if (options.IdempotencyKey is not null)
        {
            // The handler's own key: claimed first, as the emit API claims one, and given back if the emit fails.
            var owner = (await edges.Idempotency.ClaimAsync(parent.Canvas, parent.CanvasIncarnation,
                [(key, envelope.Id)], now, cancellationToken))[key];
            if (owner.Id != envelope.Id) return Record(worker, owner.Id);
        }
        else if (again && (await edges.Idempotency.HeldAsync(parent.Canvas, [key], cancellationToken)).Count > 0)
            return Record(worker, envelope.Id);
        Guid runId;
        try
        {
            // The batch waits for the event before it exists: the batch cannot finish without it (its parent, a
            // member, has not finished either).
            if (batchId is { } batch) await JoinAsync(batch, [(envelope.Id, worker)], close: false, cancellationToken);
            try
            {
                runId = options.Debounce is { } debounce
                    ? await DebounceAsync(envelope, eventJson, debounce,
                        options.IdempotencyKey is null ? null : key, cancellationToken)
                    : await PublishOrScheduleAsync(envelope, eventJson, runAt, cancellationToken);
            }
            catch when (batchId is { } joined)
            {
                await edges.Batches.RemoveAsync(parent.Canvas, joined, [envelope.Id], CancellationToken.None);
                throw;
            }
        }
        catch when (options.IdempotencyKey is not null)
        {
            await edges.Idempotency.ReleaseAsync(parent.Canvas, [(key, envelope.Id)], CancellationToken.None);
            throw;
        }
        if (options.IdempotencyKey is null)
            lock (gate) (published ??= []).Add((key, runId));
        return Record(worker, runId);
    }

    public async Task<Guid> EmitBatchAsync(
        IReadOnlyList<BatchEmitItem> items,
        BatchEmitItem? onComplete,
        BatchEmitItem? onSuccess,
        string? step,
        CancellationToken cancellationToken)
    {
        ThrowIfFinished();
        if (items.Count > BatchLimits.MaxEvents)
            throw new ArgumentException($"EmitBatch refused: a batch holds at most {BatchLimits.MaxEvents} events.");
        long bytes = 0;
        foreach (var item in items.Concat(onComplete is { } c ? [c] : []).Concat(onSuccess is { } s ? [s] : []))
        {
            if (item.Json.Length > limits.MaxEventBytes)
                throw EventJson.TooLarge(limits.MaxEventBytes, item.Json.Length);
            CheckWorker(item.Worker);
            bytes += item.Json.Length;
        }
        if (bytes > BatchLimits.MaxBytes)
            throw new ArgumentException(
                $"EmitBatch refused: its events and callbacks are over {BatchLimits.MaxBytes} bytes of JSON together.");
        var batchId = Place(items.Count, step);
        var now = DateTimeOffset.UtcNow;
        now = now.AddTicks(-(now.Ticks % 10));
        // Made again by a run again of the event: found, not made twice; its callbacks run one level deeper still.
        await edges.Batches.CreateAsync(
            new NewBatch(parent.Canvas, batchId, parent.Depth + 1, null, parent.TraceParent,
                Callback(onComplete), Callback(onSuccess)),
            parent.CanvasIncarnation,
            cancellationToken);
        var children = new List<(EventEnvelope Envelope, ReadOnlyMemory<byte> Body)>(items.Count);
        for (var i = 0; i < items.Count; i++)
            children.Add((Child(items[i].Worker, DerivedIds.Member(batchId, i), now, null) with { BatchId = batchId },
                items[i].Json));
        var keys = children.ConvertAll(c => KeyOf(c.Envelope.Id));
        var held = again ? await edges.Idempotency.HeldAsync(parent.Canvas, keys, cancellationToken) : [];
        var publishing = Enumerable.Range(0, children.Count).Where(i => !held.Contains(keys[i])).ToList();
        var pending = edges.Publisher.PublishInOrder(publishing.ConvertAll(i => children[i]), cancellationToken);
        try
        {
            await Task.WhenAll(pending);
        }
        finally
        {
            // What was enqueued joins the batch (and is kept), whatever failed: a run again of the event publishes the
            // rest and closes it.
            var enqueued = new List<int>(children.Count);
            for (int i = 0, p = 0; i < children.Count; i++)
            {
                if (p == publishing.Count || publishing[p] != i)
                {
                    enqueued.Add(i);
                    continue;
                }
                if (pending[p++].IsCompletedSuccessfully)
                {
                    enqueued.Add(i);
                    edges.Statuses.Record(EventStatusUpdate.Queued(children[i].Envelope));
                }
            }
            await JoinAsync(batchId, enqueued.ConvertAll(i => (children[i].Envelope.Id, children[i].Envelope.Worker)),
                close: enqueued.Count == children.Count, CancellationToken.None);
            await edges.Idempotency.ClaimAsync(parent.Canvas, parent.CanvasIncarnation,
                enqueued.ConvertAll(i => (keys[i], children[i].Envelope.Id)), now, CancellationToken.None);
        }
        return Record(items.Count > 0 ? items[0].Worker : parent.Worker, batchId);
    }

    public async Task<BatchResultsPage> BatchResultsAsync(long after, CancellationToken cancellationToken)
    {
        var batchId = parent.CallbackOf ?? throw new InvalidOperationException(
            $"Batch.Results(): event {parent.Id} is not a batch's callback.");
        // Its members, once per run: a finish of an id that is not one (an event whose publish was not confirmed, so
        // never added, that ran all the same) is not the batch's, and a member's later finishes are not read again.
        members ??= (await edges.Batches.MembersAsync(parent.Canvas, batchId, 0, int.MaxValue, cancellationToken))
            .ToDictionary(m => m.Id, m => m.Worker);
        returned ??= [];
        var (seq, skip) = (Math.Max(0, after) >> SkipBits, (int)(Math.Max(0, after) & ((1 << SkipBits) - 1)));
        var rows = await edges.Batches.FinishesAsync(parent.Canvas, batchId, seq - 1, FinishRowsPerPage,
            cancellationToken);
        var items = new List<BatchResult>();
        var chars = 0L;
        foreach (var row in rows)
        {
            for (var i = row.Seq == seq ? skip : 0; i < row.Ids.Length; i++)
            {
                // Full: the next page starts here.
                if (items.Count == BatchLimits.ResultsPerPage || chars > MaxPageChars)
                    return new BatchResultsPage(items, (row.Seq << SkipBits) | (long)i);
                var id = row.Ids[i];
                if (!members.TryGetValue(id, out var worker) || !returned.Add(id)) continue;
                items.Add(new BatchResult(id, worker, row.Statuses[i], row.Results[i], row.Errors[i]));
                chars += (row.Results[i]?.Length ?? 0) + (row.Errors[i]?.Length ?? 0);
            }
        }
        return new BatchResultsPage(items,
            rows.Count < FinishRowsPerPage ? -1 : (rows[^1].Seq + 1) << SkipBits);
    }

    // A page's place: the finishes row (its number) and how far into it, in one number.
    private const int SkipBits = 20;
    private const int FinishRowsPerPage = 20;
    // About a megabyte of results and errors per page, whatever their count.
    private const int MaxPageChars = 1 << 19;
    private Dictionary<Guid, string>? members;
    private HashSet<Guid>? returned;

    private void ThrowIfFinished()
    {
        lock (gate)
        {
            if (finished) throw new InvalidOperationException(
                $"Emit refused: the run of event {parent.Id} has finished; await every Emit before the handler " +
                    $"returns.");
        }
    }

    private static void CheckWorker(string worker)
    {
        if (!Workq.Shared.Names.IsValid(worker))
            throw new ArgumentException(
                $"Invalid worker name '{worker}': use {Workq.Shared.Names.Rule}.",
                nameof(worker));
    }

    public Task<StepState> LoadStepsAsync(CancellationToken cancellationToken)
    {
        ThrowIfFinished();
        // An event's first run (not a retry, a redelivery or a resume) finds nothing kept: it reads nothing. A signal
        // sent ahead of its wait is taken as the run suspends (StepStore.SuspendAsync), and the wait resumes at once.
        return again
            ? edges.Steps.LoadAsync(parent.Canvas, parent.Id, cancellationToken)
            : Task.FromResult(StepState.Empty);
    }

    public async Task<ReadOnlyMemory<byte>?> SaveStepAsync(
        string key,
        ReadOnlyMemory<byte> json,
        string? signal,
        CancellationToken cancellationToken)
    {
        ThrowIfFinished();
        // Checked here whoever sent them: a runner holds hostile code. Only a step's or a wait's own key is kept from a
        // run; the ends of sleeps and waits are kept by the worker as the run suspends.
        if (json.Length > limits.MaxStepBytes)
            throw new InvalidOperationException(
                $"Step refused: its result is {json.Length} bytes of JSON, over the limit of {limits.MaxStepBytes} " +
                "bytes (WORKQ_MAX_STEP_BYTES); nothing was kept.");
        if (key.Length > 2 * StepLimits.MaxNameLength || !(key.StartsWith("step:", StringComparison.Ordinal)
            || key.StartsWith("wait:", StringComparison.Ordinal)) || !key.Contains('#', StringComparison.Ordinal))
            throw new ArgumentException($"Step refused: '{key}' is not a step's key.");
        if (signal is not null && StepLimits.NameProblem(signal) is { } problem)
            throw new ArgumentException($"Step refused: signal: {problem}.");
        // Not the byte array's own conversion: a null array would become an empty memory, not "kept".
        return await edges.Steps.SaveAsync(parent.Canvas, parent.CanvasIncarnation, parent.Id, key, json, signal,
            cancellationToken) is { } won ? (ReadOnlyMemory<byte>?)won : null;
    }

    /// <summary>
    /// The id of the next emit (or batch) of <paramref name="count"/> events: made from its place in the run, or in the
    /// durable <paramref name="step"/> it is made in.
    /// </summary>
    private Guid Place(int count, string? step)
    {
        Count(count);
        if (step is null) return DerivedIds.Emit(parent.Id, Interlocked.Increment(ref places));
        if (step.Length > 2 * StepLimits.MaxNameLength || !step.StartsWith("step:", StringComparison.Ordinal))
            throw new ArgumentException($"Emit refused: '{step}' is not a step's key.");
        int inStep;
        lock (gate)
        {
            stepPlaces ??= [];
            stepPlaces[step] = inStep = stepPlaces.GetValueOrDefault(step) + 1;
        }
        return DerivedIds.StepEmit(parent.Id, step, inStep);
    }

    /// <summary>
    /// Counts <paramref name="count"/> events, within the depth and the emits-per-event limits (counted before
    /// publishing, so concurrent emits cannot overshoot them together).
    /// </summary>
    private void Count(int count)
    {
        var depth = parent.Depth + 1;
        if (depth > limits.MaxEmitDepth)
            throw new InvalidOperationException(
                $"Emit refused: the emit chain is {depth} events deep, over the limit of {limits.MaxEmitDepth} " +
                "(WORKQ_MAX_EMIT_DEPTH).");
        if (Interlocked.Add(ref events, count) > limits.MaxEmitsPerEvent)
        {
            var refused = new InvalidOperationException(
                $"Emit refused: this event already emitted {limits.MaxEmitsPerEvent} events, the limit per event " +
                $"(WORKQ_MAX_EMITS_PER_EVENT = {limits.MaxEmitsPerEvent}).");
            OverLimit ??= refused;
            throw refused;
        }
    }

    /// <summary>
    /// An event of the parent's canvas, never one the handler names: a delayed emit lands in its own canvas like any
    /// other. The key orders events of this canvas's worker only: it names no queue, and picks one of that worker's
    /// lanes. Of the parent's canvas incarnation, and of its worker's when it emits to itself: an event that outlives
    /// either (its run went on as they were deleted) is dropped by a canvas or worker re-created under the name.
    /// </summary>
    private EventEnvelope Child(string worker, Guid id, DateTimeOffset now, string? orderingKey) => new(
        id,
        parent.Canvas,
        worker,
        now,
        parent.Depth + 1,
        parent.TraceParent,
        orderingKey,
        parent.CanvasIncarnation,
        worker == parent.Worker ? parent.WorkerIncarnation : 0);

    private async Task<Guid> PublishOrScheduleAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> eventJson,
        DateTimeOffset? runAt,
        CancellationToken cancellationToken)
    {
        if (runAt is { } at)
        {
            await edges.Scheduled.ScheduleAsync(
                parent.Canvas,
                parent.CanvasIncarnation,
                [new ScheduledEvent(envelope, at, eventJson)],
                limits.MaxScheduledPerWorker,
                cancellationToken);
            edges.Statuses.Record(EventStatusUpdate.Scheduled(envelope, at));
        }
        else
        {
            await edges.Publisher.PublishAsync(envelope, eventJson, cancellationToken);
            edges.Statuses.Record(EventStatusUpdate.Queued(envelope));
        }
        return envelope.Id;
    }

    /// <summary>
    /// A debounced emit (API.md "Debounce"): collapsed into its key's run, whose id it answers, or the start of one (a
    /// leading run published now, its key given back if that fails).
    /// </summary>
    private async Task<Guid> DebounceAsync(
        EventEnvelope envelope,
        ReadOnlyMemory<byte> eventJson,
        Debounce debounce,
        string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        var outcome = await edges.Debounces.EmitAsync(envelope, eventJson, debounce, idempotencyKey,
            limits.MaxScheduledPerWorker, cancellationToken);
        if (outcome.RunAt is { } due)
            edges.Statuses.Record(EventStatusUpdate.Scheduled(
                envelope with { Id = outcome.Id, EnqueuedAt = outcome.EnqueuedAt }, due));
        if (!outcome.Started || debounce.Trailing) return outcome.Id;
        try
        {
            return await PublishOrScheduleAsync(envelope, eventJson, null, cancellationToken);
        }
        catch
        {
            await edges.Debounces.ReleaseAsync(envelope.Canvas, envelope.Worker, debounce.Key, envelope.Id,
                CancellationToken.None);
            throw;
        }
    }

    private async Task JoinAsync(
        Guid batchId,
        IReadOnlyList<(Guid Id, string Worker)> members,
        bool close,
        CancellationToken cancellationToken)
    {
        var change = await edges.Batches.AddAsync(parent.Canvas, batchId, members, close, whileOpen: false,
            cancellationToken, dedupe: true);
        if (change is BatchChange.NotFound or BatchChange.Finished)
            throw new InvalidOperationException(
                $"Emit refused: batch {batchId} has {(change == BatchChange.Finished ? "finished" : "gone")}.");
    }

    private static BatchCallback? Callback(BatchEmitItem? item) =>
        item is { } given ? new BatchCallback(given.Worker, given.Json.ToArray()) : null;

    /// <summary>The idempotency key that holds an emitted id for the runs of its event after the first.</summary>
    private static string KeyOf(Guid id) => "workq:emit:" + id.ToString("N");

    private Guid Record(string worker, Guid id)
    {
        lock (gate) (emitted ??= []).Add(new EmittedEvent(worker, id));
        return id;
    }
}
