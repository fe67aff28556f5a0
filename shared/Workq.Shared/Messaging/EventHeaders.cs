using System.Text;
using RabbitMQ.Client;

namespace Workq.Shared.Messaging;

/// <summary>
/// How an event travels: the body is the emitted JSON exactly as sent (never re-serialized), the
/// message id is the event id, and these headers carry what the worker needs to run and trace it.
/// </summary>
public static class EventHeaders
{
    public const string Canvas = "workq-canvas";
    public const string Worker = "workq-worker";
    public const string EnqueuedAt = "workq-enqueued-at";
    public const string Depth = "workq-depth";
    public const string TraceParent = "traceparent";
    public const string DeliveryCount = "x-delivery-count";
    /// <summary>
    /// The attempt a retried event starts at (a retry is a new message, so the broker's count starts over).
    /// </summary>
    public const string Attempt = "workq-attempt";
    public const string DeadLetterReason = "workq-dead-letter-reason";
    public const string Attempts = "workq-attempts";
    /// <summary>
    /// Set on an event that was running when its canvas's runner crashed: it runs alone next time, so a crash then is
    /// its own.
    /// </summary>
    public const string CrashSuspect = "workq-crash-suspect";
    /// <summary>
    /// The emit's ordering key (API.md "Ordering keys"): the event travels in its worker's lane for that key.
    /// </summary>
    public const string OrderingKey = "workq-ordering-key";
    /// <summary>
    /// The incarnation of the canvas the event was emitted in, and of the worker it belongs to once known (a retry, a
    /// requeue, a redrive, a replay): a consumer of another incarnation of the same names drops it (docs/DESIGN.md
    /// "Deleting a canvas or a worker").
    /// </summary>
    public const string CanvasIncarnation = "workq-canvas-incarnation";
    public const string WorkerIncarnation = "workq-worker-incarnation";
    /// <summary>The batch the event belongs to (API.md "Batches"): its final status counts there.</summary>
    public const string Batch = "workq-batch";
    /// <summary>The batch whose <c>onComplete</c> or <c>onSuccess</c> callback the event is.</summary>
    public const string BatchCallback = "workq-batch-callback";
    /// <summary>How many times a durable event has resumed from a sleep or a wait (absent: none).</summary>
    public const string Resume = "workq-resume";
    /// <summary>A debounced event's key, and the emits it absorbed when it was published (API.md "Debounce").</summary>
    public const string DebounceKey = "workq-debounce-key";
    public const string Absorbed = "workq-debounce-absorbed";
    /// <summary>"high" or "low"; a normal event has none.</summary>
    public const string Priority = "workq-priority";

    /// <summary>The message properties of an event, with a header table of its own (callers may add to it).</summary>
    public static BasicProperties Create(in EventEnvelope envelope, int attempt = 1)
        => Create(envelope.Id, Table(envelope, attempt));

    /// <summary>
    /// The message properties of an event whose header table is shared with others (it must not be changed).
    /// </summary>
    public static BasicProperties Create(Guid id, IDictionary<string, object?> headers) => new()
    {
        MessageId = id.ToString(),
        ContentType = "application/json",
        DeliveryMode = DeliveryModes.Persistent,
        Headers = headers,
    };

    /// <summary>Everything but the id: equal for every event of a batch to the same worker.</summary>
    public static Dictionary<string, object?> Table(in EventEnvelope envelope, int attempt = 1)
    {
        var headers = new Dictionary<string, object?>(6)
        {
            [Canvas] = envelope.Canvas,
            [Worker] = envelope.Worker,
            [EnqueuedAt] = (envelope.EnqueuedAt.UtcTicks - DateTimeOffset.UnixEpoch.Ticks) / 10,
            [Depth] = envelope.Depth,
        };
        if (envelope.TraceParent is not null) headers[TraceParent] = envelope.TraceParent;
        if (attempt > 1) headers[Attempt] = attempt;
        if (envelope.OrderingKey is not null) headers[OrderingKey] = envelope.OrderingKey;
        if (envelope.CanvasIncarnation != 0) headers[CanvasIncarnation] = envelope.CanvasIncarnation;
        if (envelope.WorkerIncarnation != 0) headers[WorkerIncarnation] = envelope.WorkerIncarnation;
        if (envelope.BatchId is { } batch) headers[Batch] = batch.ToString();
        if (envelope.CallbackOf is { } callbackOf) headers[BatchCallback] = callbackOf.ToString();
        if (envelope.Resume > 0) headers[Resume] = envelope.Resume;
        if (envelope.DebounceKey is not null)
        {
            headers[DebounceKey] = envelope.DebounceKey;
            headers[Absorbed] = envelope.Absorbed;
        }
        if (envelope.Priority != Handlers.Messaging.Priority.Normal)
            headers[Priority] = Priorities.Name(envelope.Priority);
        return headers;
    }

    public static EventEnvelope Read(IReadOnlyBasicProperties properties, string routingKey) =>
        Read(properties, String(properties.Headers, Canvas) ?? "", String(properties.Headers, Worker) ?? routingKey);

    /// <summary>
    /// For a consumer that knows whose queue it reads: the canvas and worker headers are not decoded again.
    /// </summary>
    public static EventEnvelope Read(IReadOnlyBasicProperties properties, string canvas, string worker)
    {
        var headers = properties.Headers;
        var enqueuedMicros = Long(headers, EnqueuedAt);
        var enqueuedAt = enqueuedMicros is { } micros
            ? DateTimeOffset.UnixEpoch.AddTicks(micros * 10)
            : DateTimeOffset.UtcNow;
        var id = Guid.TryParse(properties.MessageId, out var parsed) ? parsed : Guid.Empty;
        return new EventEnvelope(
            id,
            canvas,
            worker,
            enqueuedAt,
            (int)(Long(headers, Depth) ?? 0),
            String(headers, TraceParent),
            String(headers, OrderingKey),
            Long(headers, CanvasIncarnation) ?? 0,
            Long(headers, WorkerIncarnation) ?? 0,
            Id(headers, Batch),
            Id(headers, BatchCallback),
            (int)Math.Clamp(Long(headers, Resume) ?? 0, 0, int.MaxValue),
            String(headers, DebounceKey),
            (int)Math.Clamp(Long(headers, Absorbed) ?? 0, 0, int.MaxValue),
            Priorities.Parse(String(headers, Priority)) ?? Handlers.Messaging.Priority.Normal);
    }

    /// <summary>A header holding an id; null when absent or not one.</summary>
    public static Guid? Id(IDictionary<string, object?>? headers, string key) =>
        headers is not null && headers.ContainsKey(key) && Guid.TryParse(String(headers, key), out var id) ? id : null;

    /// <summary>
    /// 1 on first delivery; retries start where the last run left off, and quorum queues count redeliveries in
    /// x-delivery-count.
    /// </summary>
    public static int AttemptOf(IReadOnlyBasicProperties properties) =>
        (int)(Long(properties.Headers, Attempt) ?? 1) + (int)(Long(properties.Headers, DeliveryCount) ?? 0);

    public static string? String(IDictionary<string, object?>? headers, string key) =>
        headers is not null && headers.TryGetValue(key, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            string text => text,
            null => null,
            _ => value.ToString(),
        } : null;

    public static long? Long(IDictionary<string, object?>? headers, string key) =>
        headers is not null && headers.TryGetValue(key, out var value) ? value switch
        {
            long l => l,
            int i => i,
            short s => s,
            byte b => b,
            uint u => u,
            ulong ul => (long)ul,
            byte[] bytes when long.TryParse(Encoding.UTF8.GetString(bytes), out var parsed) => parsed,
            _ => null,
        } : null;
}
