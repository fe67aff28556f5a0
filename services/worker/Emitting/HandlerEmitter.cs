using Workq.Shared.Handlers.Messaging;
using Workq.Shared.Handlers.Scripting;
using Workq.Shared.Messaging;
using Workq.Shared.Storage;

namespace Workq.Worker.Emitting;

/// <summary>
/// A handler's <c>Emit</c>: same canvas, one level deeper, same trace, confirmed like any emit; at most
/// <c>maxEmits</c> per run, so one event cannot fan out without bound. A delayed one is stored for the dispatchers'
/// pump instead, under the worker's <c>maxScheduled</c>.
/// </summary>
public sealed class HandlerEmitter(
    EventPublisher publisher,
    ScheduledEventStore scheduled,
    EventStatusRecorder statuses,
    EventEnvelope parent,
    int maxDepth,
    int maxEmits,
    int maxScheduled,
    int maxEventBytes) : IHandlerEmitter
{
    public int MaxEventBytes => maxEventBytes;

    private readonly Lock gate = new();
    private List<EmittedEvent>? emitted;
    private bool finished;
    private int emits;

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

    /// <summary>After the run: whatever the handler left running cannot emit on the event's behalf.</summary>
    public void Finish()
    {
        lock (gate) finished = true;
    }

    public async Task<Guid> EmitAsync(
        string worker,
        ReadOnlyMemory<byte> eventJson,
        EmitWhen when,
        CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (finished) throw new InvalidOperationException(
                $"Emit refused: the run of event {parent.Id} has finished; await every Emit before the handler " +
                    $"returns.");
        }
        // Checked here whoever serialized it: a runner holds hostile code, and the API holds every emit to the same
        // limit.
        if (eventJson.Length > maxEventBytes) throw EventJson.TooLarge(maxEventBytes, eventJson.Length);
        if (!Workq.Shared.Names.IsValid(worker))
            throw new ArgumentException(
                $"Invalid worker name '{worker}': use {Workq.Shared.Names.Rule}.",
                nameof(worker));
        var now = DateTimeOffset.UtcNow;
        var (runAt, timeProblem) = EmitSchedule.Resolve(when.Delay, when.RunAt, now, "delay", "runAt");
        if (timeProblem is not null) throw new ArgumentException($"Emit refused: {timeProblem}");
        if (OrderingKeys.Problem(when
            .OrderingKey) is { } keyProblem) throw new ArgumentException($"Emit refused: orderingKey: {keyProblem}");
        var depth = parent.Depth + 1;
        if (depth > maxDepth)
            throw new InvalidOperationException(
                $"Emit refused: the emit chain is {depth} events deep, over the limit of {maxDepth} " +
                "(WORKQ_MAX_EMIT_DEPTH).");
        // Counted before publishing, so concurrent emits cannot overshoot the limit together.
        if (Interlocked.Increment(ref emits) > maxEmits)
        {
            var refused = new InvalidOperationException(
                $"Emit refused: this event already emitted {maxEmits} events, the limit per event " +
                $"(WORKQ_MAX_EMITS_PER_EVENT = {maxEmits}).");
            OverLimit ??= refused;
            throw refused;
        }
        // Microseconds: what PostgreSQL and the message headers keep.
        now = now.AddTicks(-(now.Ticks % 10));
        // The parent's canvas, never one the handler names: a delayed emit lands in its own canvas like any other.
        // The key orders events of this canvas's worker only: it names no queue, and picks one of that worker's lanes.
        // Of the parent's canvas incarnation, and of its worker's when it emits to itself: an event that outlives
        // either (its run went on as they were deleted) is dropped by a canvas or worker re-created under the name.
        var envelope = new EventEnvelope(
            Guid.CreateVersion7(now),
            parent.Canvas,
            worker,
            now,
            depth,
            parent.TraceParent,
            when.OrderingKey,
            parent.CanvasIncarnation,
            worker == parent.Worker ? parent.WorkerIncarnation : 0);
        if (runAt is { } at)
        {
            await scheduled.ScheduleAsync(
                parent.Canvas,
                parent.CanvasIncarnation,
                [new ScheduledEvent(envelope, at, eventJson)],
                maxScheduled,
                cancellationToken);
            statuses.Record(EventStatusUpdate.Scheduled(envelope, at));
        }
        else
        {
            await publisher.PublishAsync(envelope, eventJson, cancellationToken);
            statuses.Record(EventStatusUpdate.Queued(envelope));
        }
        lock (gate) (emitted ??= []).Add(new EmittedEvent(worker, envelope.Id));
        return envelope.Id;
    }
}
