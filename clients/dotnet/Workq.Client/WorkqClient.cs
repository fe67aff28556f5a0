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
        var query = new List<string>(2);
        if (timing?.Delay is { } delay) query.Add(
            "delaySeconds=" + delay.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        else if (timing?.RunAt is { } runAt) query.Add(
            "runAt=" + Uri.EscapeDataString(runAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
        if (timing?.OrderingKey is { } orderingKey) query.Add("orderingKey=" + Uri.EscapeDataString(orderingKey));
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
        ArgumentNullException.ThrowIfNull(items);
        // A 503 on a batch may follow a partial enqueue: a key on every item makes the retry exactly-once.
        var body = items.Select(i => new BatchItemBody(
            i.Worker,
            i.Event,
            i.IdempotencyKey ?? NewKey(),
            i.Delay?.TotalSeconds,
            i.RunAt,
            i.OrderingKey)).ToList();
        var accepted = await transport.SendAsync<BatchAccepted>(
            HttpMethod.Post,
            WorkqTransport.Path("v1", "canvases", canvas, "events"),
            WorkqTransport.Serialize(body),
            retry: true,
            ct);
        return accepted.Ids;
    }

    private static string NewKey() => Guid.NewGuid().ToString("N");

    public void Dispose() => transport.Dispose();

    private sealed record BatchItemBody(string Worker, object? Event, string IdempotencyKey,
        [property: System.Text.Json.Serialization.JsonIgnore(
            Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] double? DelaySeconds,
        [property: System.Text.Json.Serialization.JsonIgnore(
            Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? RunAt,
        [property: System.Text.Json.Serialization.JsonIgnore(
            Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? OrderingKey);
}
