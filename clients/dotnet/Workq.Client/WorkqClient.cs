using System.Text.Json.Serialization;

namespace Workq.Client;

/// <summary>
/// Emits events to a Workq emitter. Transient failures are retried (see <see cref="WorkqRetryOptions"/>)
/// with the same idempotency key, generated when the caller gives none, so a retry after a lost answer
/// returns the first id instead of enqueuing the event again.
/// </summary>
/// <param name="emitterUrl">The emitter, e.g. http://127.0.0.1:8081.</param>
/// <param name="token">The canvas token (or the admin token).</param>
/// <param name="http">An HttpClient to use (not disposed here); by default the client makes its own.</param>
/// <param name="retry">Retry settings; the defaults make 3 retries with exponential backoff.</param>
public sealed class WorkqClient(
    Uri emitterUrl,
    string token,
    HttpClient? http = null,
    WorkqRetryOptions? retry = null) : IDisposable
{
    private readonly WorkqTransport transport = new(emitterUrl, token, http, retry);

    /// <summary>Emits one event; returns its id once the broker holds it durably (202).</summary>
    public Task<Guid> EmitAsync(
        string canvas,
        string worker,
        object? value,
        string? idempotencyKey = null,
        CancellationToken ct = default) =>
        EmitAsync(canvas, worker, value, timing: null, idempotencyKey, ct);

    /// <summary>
    /// Emits one event to run later or in its key's order (<paramref name="timing"/>); returns its id once it is stored
    /// durably (202).
    /// </summary>
    public async Task<Guid> EmitAsync(
        string canvas,
        string worker,
        object? value,
        EmitTiming? timing,
        string? idempotencyKey = null,
        CancellationToken ct = default)
    {
        var query = new List<string>(6);
        if (timing?.Delay is { } delay) query.Add("delaySeconds=" + Seconds(delay));
        else if (timing?.RunAt is { } runAt) query.Add(
            "runAt=" + Uri.EscapeDataString(runAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
        if (timing?.OrderingKey is { } orderingKey) query.Add("orderingKey=" + Uri.EscapeDataString(orderingKey));
        if (timing?.Debounce is { } debounce)
        {
            query.Add("debounceKey=" + Uri.EscapeDataString(debounce.Key));
            query.Add("debounceSeconds=" + Seconds(debounce.Period));
            if (debounce.Leading) query.Add("debounceMode=leading");
            if (debounce.Max is { } max) query.Add("debounceMaxSeconds=" + Seconds(max));
        }
        if (PriorityName(timing?.Priority ?? EmitPriority.Normal) is { } priority) query.Add("priority=" + priority);
        var path = WorkqTransport.Path("v1", "canvases", canvas, "workers", worker, "events") + (query.Count == 0
            ? ""
            : "?" + string.Join('&', query));
        var accepted = await transport.SendAsync<EmitAccepted>(
            HttpMethod.Post,
            path,
            WorkqTransport.Serialize(value),
            retry: true,
            ct,
            idempotencyKey ?? NewKey());
        return accepted.Id;
    }

    /// <summary>Emits up to 1000 events in one request; returns their ids in order.</summary>
    public async Task<IReadOnlyList<Guid>> EmitBatchAsync(
        string canvas,
        IEnumerable<EmitItem> items,
        CancellationToken ct = default)
    {
        var accepted = await transport.SendAsync<BatchAccepted>(
            HttpMethod.Post,
            WorkqTransport.Path("v1", "canvases", canvas, "events"),
            WorkqTransport.Serialize(ItemBodies(items, keyEach: true)),
            retry: true,
            ct);
        return accepted.Ids;
    }

    /// <summary>
    /// Creates a batch of up to 1000 events (none is fine) whose callbacks are emitted once every member ended:
    /// <paramref name="onComplete"/> always, <paramref name="onSuccess"/> only when every member completed. An
    /// <paramref name="open"/> batch takes more events (<see cref="AddToBatchAsync"/>) until <see
    /// cref="CloseBatchAsync"/>; it never completes before. The batch's key (generated when none is given) makes a
    /// retry after a lost answer return the first batch. Items get no generated keys: after a 503 the emitter forgets
    /// the batch's key, so the retry creates the batch again with every event, rather than one that leaves out those
    /// the first attempt enqueued.
    /// </summary>
    public Task<BatchCreated> CreateBatchAsync(
        string canvas,
        IEnumerable<EmitItem> events,
        BatchCallback? onComplete = null,
        BatchCallback? onSuccess = null,
        bool open = false,
        string? idempotencyKey = null,
        CancellationToken ct = default) =>
        transport.SendAsync<BatchCreated>(
            HttpMethod.Post,
            BatchesPath(canvas),
            WorkqTransport.Serialize(new CreateBatchBody(
                ItemBodies(events, keyEach: false),
                onComplete,
                onSuccess,
                open,
                idempotencyKey ?? NewKey())),
            retry: true,
            ct);

    /// <summary>
    /// Adds up to 1000 events to an open batch; returns their ids in order. A closed or completed batch is a 409, an
    /// unknown one a 404. Keys on every item make a retry exactly-once, as for <see cref="EmitBatchAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> AddToBatchAsync(
        string canvas,
        Guid batchId,
        IEnumerable<EmitItem> events,
        CancellationToken ct = default) =>
        (await transport.SendAsync<BatchAccepted>(
            HttpMethod.Post,
            BatchesPath(canvas, batchId.ToString(), "events"),
            WorkqTransport.Serialize(ItemBodies(events, keyEach: true)),
            retry: true,
            ct)).Ids;

    /// <summary>
    /// Closes an open batch: it completes once its members ended. Closing again changes nothing, so it is retried.
    /// </summary>
    public Task CloseBatchAsync(string canvas, Guid batchId, CancellationToken ct = default) =>
        transport.SendAsync(HttpMethod.Post, BatchesPath(canvas, batchId.ToString(), "close"), null, retry: true, ct);

    private static string BatchesPath(string canvas, params string[] rest) =>
        WorkqTransport.Path(["v1", "canvases", canvas, "batches", .. rest]);

    // A 503 on a batch may follow a partial enqueue: a key on every item makes the retry exactly-once.
    private static List<BatchItemBody> ItemBodies(IEnumerable<EmitItem> items, bool keyEach)
    {
        ArgumentNullException.ThrowIfNull(items);
        return items.Select(i => new BatchItemBody(
            i.Worker,
            i.Event,
            i.IdempotencyKey ?? (keyEach ? NewKey() : null),
            i.Delay?.TotalSeconds,
            i.RunAt,
            i.OrderingKey,
            PriorityName(i.Priority))).ToList();
    }

    // Normal is the default: not sent, so a server older than priorities takes the emit.
    private static string? PriorityName(EmitPriority priority) => priority switch
    {
        EmitPriority.High => "high",
        EmitPriority.Low => "low",
        _ => null,
    };

    /// <summary>A span in seconds as the API reads it: the shortest text that round-trips.</summary>
    private static string Seconds(TimeSpan span) =>
        span.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private static string NewKey() => Guid.NewGuid().ToString("N");

    public void Dispose() => transport.Dispose();

    private sealed record BatchItemBody(string Worker, object? Event,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? IdempotencyKey,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? DelaySeconds,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? RunAt,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? OrderingKey,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Priority);

    private sealed record CreateBatchBody(
        List<BatchItemBody> Events,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BatchCallback? OnComplete,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BatchCallback? OnSuccess,
        bool Open,
        string IdempotencyKey);
}
