using System.Text.Json.Nodes;

namespace Workq.Client;

/// <summary>
/// The control API of docs/API.md: canvases (admin token), workers, their state, traces, events (status, cancel,
/// signals), queued events, dead letters, unhandled events, batches and crons. Reads are retried on transient failures;
/// writes are not, since only emits carry idempotency keys.
/// </summary>
/// <param name="controlUrl">The control service, e.g. http://127.0.0.1:8080.</param>
/// <param name="token">The admin token, or a canvas token for that canvas's routes.</param>
/// <param name="http">An HttpClient to use (not disposed here); by default the client makes its own.</param>
/// <param name="retry">Retry settings for reads.</param>
public sealed class WorkqControlClient(
    Uri controlUrl,
    string token,
    HttpClient? http = null,
    WorkqRetryOptions? retry = null) : IDisposable
{
    private readonly WorkqTransport transport = new(controlUrl, token, http, retry);
    // One long poll stays within an attempt's time-out, with room for the answer.
    private readonly int longestWaitSeconds = Math.Clamp(
        (int)(retry ?? new WorkqRetryOptions()).AttemptTimeout.TotalSeconds - 5,
        1,
        MaxWaitSeconds);
    private const int MaxWaitSeconds = 60;

    // ---- Canvases (admin) ----

    public Task<CreatedCanvas> CreateCanvasAsync(string name, CancellationToken ct = default) =>
        transport.SendAsync<CreatedCanvas>(
            HttpMethod.Post,
            "v1/canvases",
            WorkqTransport.Serialize(new { name }),
            retry: false,
            ct);

    public Task<IReadOnlyList<Canvas>> ListCanvasesAsync(CancellationToken ct = default) =>
        transport.SendAsync<IReadOnlyList<Canvas>>(HttpMethod.Get, "v1/canvases", null, retry: true, ct);

    /// <summary>Deletes the canvas with its workers, queues, crons and traces.</summary>
    public Task DeleteCanvasAsync(string name, CancellationToken ct = default) =>
        transport.SendAsync(HttpMethod.Delete, WorkqTransport.Path("v1", "canvases", name), null, retry: false, ct);

    // ---- Workers ----

    /// <summary>
    /// Deploys code as a new version (creating the worker if need be); a refused compile is a 400 with <see
    /// cref="WorkqException.Errors"/>.
    /// </summary>
    public Task<Worker> DeployWorkerAsync(
        string canvas,
        string worker,
        string code,
        int? concurrency = null,
        CancellationToken ct = default) =>
        DeployWorkerAsync(canvas, worker, code, new WorkerSettings(concurrency), ct);

    /// <summary>
    /// Deploys code with settings, as PATCH takes them: what is not set keeps its value (a new worker: its default).
    /// </summary>
    public Task<Worker> DeployWorkerAsync(
        string canvas,
        string worker,
        string code,
        WorkerSettings settings,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var body = SettingsBody(settings);
        body["code"] = code;
        return transport.SendAsync<Worker>(
            HttpMethod.Put,
            WorkerPath(canvas, worker),
            WorkqTransport.Serialize(body),
            retry: false,
            ct);
    }

    public Task<Worker> GetWorkerAsync(string canvas, string worker, CancellationToken ct = default) =>
        transport.SendAsync<Worker>(HttpMethod.Get, WorkerPath(canvas, worker), null, retry: true, ct);

    public Task<IReadOnlyList<Worker>> ListWorkersAsync(string canvas, CancellationToken ct = default) =>
        transport.SendAsync<IReadOnlyList<Worker>>(
            HttpMethod.Get,
            WorkqTransport.Path("v1", "canvases", canvas, "workers"),
            null,
            retry: true,
            ct);

    /// <summary>
    /// Changes settings only (concurrency, retry policy, rate limit); code changes go through <see
    /// cref="DeployWorkerAsync(string, string, string, WorkerSettings, CancellationToken)"/>.
    /// </summary>
    public Task<Worker> PatchWorkerAsync(
        string canvas,
        string worker,
        WorkerSettings settings,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return transport.SendAsync<Worker>(
            HttpMethod.Patch,
            WorkerPath(canvas, worker),
            WorkqTransport.Serialize(SettingsBody(settings)),
            retry: false,
            ct);
    }

    // Built by hand: an absent "retry" (or "rateLimit") keeps it, null removes it.
    private static JsonObject SettingsBody(WorkerSettings settings)
    {
        var body = new JsonObject();
        if (settings.Concurrency is { } concurrency) body["concurrency"] = concurrency;
        if (settings.ClearRetry) body["retry"] = null;
        else if (settings.Retry is { } policy) body["retry"] = System.Text.Json.JsonSerializer
            .SerializeToNode(policy, WorkqJson.Options);
        if (settings.ClearRateLimit) body["rateLimit"] = null;
        else if (settings.RateLimit is { } limit) body["rateLimit"] = System.Text.Json.JsonSerializer
            .SerializeToNode(limit, WorkqJson.Options);
        return body;
    }

    /// <summary>Deletes the worker; its queued events are dropped.</summary>
    public Task DeleteWorkerAsync(string canvas, string worker, CancellationToken ct = default) =>
        transport.SendAsync(HttpMethod.Delete, WorkerPath(canvas, worker), null, retry: false, ct);

    /// <summary>Stops running events; emits keep queueing.</summary>
    public Task<Worker> PauseAsync(string canvas, string worker, CancellationToken ct = default)
        => PostWorkerAsync(canvas, worker, "pause", null, ct);

    /// <summary>Runs the queued events again; 409 if an administrator blocked the worker.</summary>
    public Task<Worker> ResumeAsync(string canvas, string worker, CancellationToken ct = default)
        => PostWorkerAsync(canvas, worker, "resume", null, ct);

    /// <summary>Admin only: stops the worker whatever its owner does, until <see cref="UnblockAsync"/>.</summary>
    public Task<Worker> BlockAsync(string canvas, string worker, string? reason = null, CancellationToken ct = default)
        =>
        PostWorkerAsync(canvas, worker, "block", WorkqTransport.Serialize(new { reason }), ct);

    /// <summary>Admin only: returns the worker to the state it had under the block.</summary>
    public Task<Worker> UnblockAsync(string canvas, string worker, CancellationToken ct = default)
        => PostWorkerAsync(canvas, worker, "unblock", null, ct);

    /// <summary>The last processed events (10 by default), newest first.</summary>
    public Task<IReadOnlyList<Trace>> GetTracesAsync(string canvas, string worker, CancellationToken ct = default) =>
        transport.SendAsync<IReadOnlyList<Trace>>(
            HttpMethod.Get,
            WorkerPath(canvas, worker, "traces"),
            null,
            retry: true,
            ct);

    /// <summary>
    /// Where the event is known on the canvas: its kept traces, dead letters, parked and cancelled copies. Queued
    /// events are not searched.
    /// </summary>
    public Task<EventLookup> FindEventAsync(string canvas, Guid id, CancellationToken ct = default) =>
        transport.SendAsync<EventLookup>(
            HttpMethod.Get,
            WorkqTransport.Path("v1", "canvases", canvas, "lookup", id.ToString()),
            null,
            retry: true,
            ct);

    /// <summary>
    /// The event's status now; a <see cref="WorkqException"/> with 404 when the canvas has no such event (or its status
    /// expired).
    /// </summary>
    public Task<EventStatus> GetEventAsync(string canvas, Guid id, CancellationToken ct = default) =>
        transport.SendAsync<EventStatus>(HttpMethod.Get, EventPath(canvas, id), null, retry: true, ct);

    /// <summary>
    /// The event's status once it finished, or as it is when <paramref name="timeout"/> ran out (BullMQ's
    /// waitUntilFinished). Long-polls control (<c>?wait=N</c>) in steps that fit one attempt's time-out, so any timeout
    /// works.
    /// </summary>
    public Task<EventStatus> WaitForEventAsync(
        string canvas,
        Guid id,
        TimeSpan timeout,
        CancellationToken ct = default) =>
        LongPollAsync<EventStatus>(EventPath(canvas, id), s => s.IsFinished, timeout, ct);

    /// <summary>
    /// Long-polls <paramref name="path"/> (<c>?wait=N</c>, answered early once it is done) in steps that fit one
    /// attempt's time-out, until <paramref name="done"/> or the deadline; returns the last answer.
    /// </summary>
    private async Task<T> LongPollAsync<T>(string path, Func<T, bool> done, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var seconds = (int)Math.Clamp(
                Math.Ceiling((deadline - DateTimeOffset.UtcNow).TotalSeconds),
                0,
                longestWaitSeconds);
            var answer = await transport.SendAsync<T>(HttpMethod.Get, path + $"?wait={seconds}", null, retry: true, ct);
            if (done(answer) || DateTimeOffset.UtcNow >= deadline) return answer;
        }
    }

    /// <summary>
    /// Cancels the event (canvas or admin token). A queued, scheduled, sleeping or waiting event is cancelled at once
    /// (<c>Status</c> cancelled); a running one answers running: its handler's <c>CancellationToken</c> is cancelled
    /// and the event ends cancelled when the handler returns (<see cref="WaitForEventAsync"/> sees it). An event that
    /// had already finished is a <see cref="WorkqException"/> with 409, an unknown one 404. Not retried: a cancel whose
    /// answer was lost would be a 409 the second time.
    /// </summary>
    public Task<CancelAccepted> CancelEventAsync(string canvas, Guid id, CancellationToken ct = default) =>
        transport.SendAsync<CancelAccepted>(
            HttpMethod.Post,
            EventPath(canvas, id, "cancel"),
            null,
            retry: false,
            ct);

    /// <summary>
    /// Sends the signal <paramref name="name"/> with <paramref name="value"/> (any value, sent as its JSON; null is
    /// JSON null) to the event. A handler waiting in <c>WaitFor(name)</c> runs again and gets the value (<c>State</c>
    /// resumed); an event that is not waiting yet keeps it 24 hours for its next <c>WaitFor(name)</c> (kept). A
    /// <see cref="WorkqException"/> with 404 when the event is unknown, finished or waiting for another name; 409 when
    /// the same name is already pending for it; 400 for a bad name (1-100 letters, digits, <c>-</c>, <c>_</c>,
    /// <c>.</c>, <c>:</c>); 413 over 1 MiB. Not retried, since a second delivery of the same signal is a 409.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="name"/> is empty, <c>.</c> or <c>..</c>: a URL path cannot carry these as a segment (they are
    /// removed when the address is normalized), so the request would reach another route.
    /// </exception>
    public Task<SignalAccepted> SignalAsync(
        string canvas,
        Guid id,
        string name,
        object? value = null,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name is "." or "..") throw new ArgumentException(
            $"A signal named '{name}' cannot be sent: a URL path segment '{name}' is removed when the address is "
                + "normalized.",
            nameof(name));
        return transport.SendAsync<SignalAccepted>(
            HttpMethod.Post,
            EventPath(canvas, id, "signals", name),
            WorkqTransport.Serialize(value),
            retry: false,
            ct);
    }

    private static string EventPath(string canvas, Guid id, params string[] rest)
        => WorkqTransport.Path(["v1", "canvases", canvas, "events", id.ToString(), .. rest]);

    /// <summary>The live worker instances with their consumers (admin token).</summary>
    public Task<IReadOnlyList<WorkerInstance>> ListInstancesAsync(CancellationToken ct = default) =>
        transport.SendAsync<IReadOnlyList<WorkerInstance>>(HttpMethod.Get, "v1/instances", null, retry: true, ct);

    // ---- Queued events ----

    /// <summary>Un-enqueues one event: if it is still queued it is never run (202).</summary>
    public Task UnenqueueAsync(string canvas, string worker, Guid eventId, CancellationToken ct = default) =>
        transport.SendAsync(
            HttpMethod.Delete,
            WorkerPath(canvas, worker, "events", eventId.ToString()),
            null,
            retry: false,
            ct);

    /// <summary>Drops every queued event of the worker; returns how many.</summary>
    public async Task<long> PurgeAsync(string canvas, string worker, CancellationToken ct = default) =>
        (await transport.SendAsync<PurgeResult>(
            HttpMethod.Delete,
            WorkerPath(canvas, worker, "events"),
            null,
            retry: false,
            ct)).Purged;

    // ---- Dead letters ----

    /// <summary>
    /// The newest dead letters (the first page of 100); <see cref="SearchDeadLettersAsync"/> filters and pages.
    /// </summary>
    public Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(
        string canvas,
        string worker,
        CancellationToken ct = default) =>
        transport.SendAsync<IReadOnlyList<DeadLetter>>(
            HttpMethod.Get,
            WorkerPath(canvas, worker, "dead-letters"),
            null,
            retry: true,
            ct);

    /// <summary>
    /// A page of the dead letters the filter selects, newest first: <paramref name="limit"/> 1-1000 (100 by default),
    /// <paramref name="cursor"/> from the previous page.
    /// </summary>
    public async Task<DeadLetterPage> SearchDeadLettersAsync(
        string canvas,
        string worker,
        DeadLetterFilter? filter = null,
        int? limit = null,
        string? cursor = null,
        CancellationToken ct = default)
    {
        var (items, next) = await PageAsync<DeadLetter>(
            WorkerPath(canvas, worker, "dead-letters") + Query(filter, Paging(limit, cursor)),
            ct);
        return new DeadLetterPage(items, next);
    }

    /// <summary>A page of a list whose next page's cursor is in <c>X-Next-Cursor</c> (null on the last page).</summary>
    private Task<(IReadOnlyList<T> Items, string? NextCursor)> PageAsync<T>(string path, CancellationToken ct) =>
        transport.SendReadingHeaderAsync<IReadOnlyList<T>>(
            HttpMethod.Get,
            path,
            null,
            retry: true,
            "X-Next-Cursor",
            idempotencyKey: null,
            ct);

    private static (string Name, string? Value)[] Paging(int? limit, string? cursor) =>
        [("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("cursor", cursor)];

    /// <summary>Puts every dead letter back into the worker's queue; returns how many.</summary>
    public Task<long> RedriveDeadLettersAsync(string canvas, string worker, CancellationToken ct = default)
        => RedriveDeadLettersAsync(canvas, worker, null, ct);

    /// <summary>
    /// Puts the dead letters the filter selects (every one without a filter) back into the worker's queue, oldest
    /// first; returns how many.
    /// </summary>
    public async Task<long> RedriveDeadLettersAsync(
        string canvas,
        string worker,
        DeadLetterFilter? filter,
        CancellationToken ct = default) =>
        (await transport.SendAsync<RedriveResult>(
            HttpMethod.Post,
            WorkerPath(canvas, worker, "dead-letters", "redrive") + Query(filter),
            null,
            retry: false,
            ct)).Redriven;

    /// <summary>Drops every dead letter of the worker; returns how many.</summary>
    public Task<long> DiscardDeadLettersAsync(string canvas, string worker, CancellationToken ct = default)
        => DiscardDeadLettersAsync(canvas, worker, null, ct);

    /// <summary>Drops the dead letters the filter selects (every one without a filter); returns how many.</summary>
    public async Task<long> DiscardDeadLettersAsync(
        string canvas,
        string worker,
        DeadLetterFilter? filter,
        CancellationToken ct = default) =>
        (await transport.SendAsync<DiscardResult>(
            HttpMethod.Delete,
            WorkerPath(canvas, worker, "dead-letters") + Query(filter),
            null,
            retry: false,
            ct)).Discarded;

    private static string Query(DeadLetterFilter? filter, params (string Name, string? Value)[] more)
    {
        static string? Time(DateTimeOffset? at)
            => at?.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        return QueryString([
            ("q", filter?.Q),
            ("reason", filter?.Reason),
            ("from", Time(filter?.From)),
            ("to", Time(filter?.To)),
            .. more]);
    }

    /// <summary>A query string of the parts that have a value ("" when none has).</summary>
    private static string QueryString(params (string Name, string? Value)[] parts)
    {
        var given = parts.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}")
            .ToList();
        return given.Count == 0 ? "" : "?" + string.Join('&', given);
    }

    // ---- Batches ----

    /// <summary>
    /// The batch's state and counts now; a <see cref="WorkqException"/> with 404 when the canvas has no such batch (or
    /// it completed longer ago than the retention).
    /// </summary>
    public Task<Batch> GetBatchAsync(string canvas, Guid id, CancellationToken ct = default) =>
        transport.SendAsync<Batch>(HttpMethod.Get, BatchPath(canvas, id), null, retry: true, ct);

    /// <summary>
    /// The batch once it completed, or as it is when <paramref name="timeout"/> ran out (check <see
    /// cref="Batch.IsCompleted"/>). Long-polls like <see cref="WaitForEventAsync"/>, so any timeout works.
    /// </summary>
    public Task<Batch> WaitForBatchAsync(string canvas, Guid id, TimeSpan timeout, CancellationToken ct = default) =>
        LongPollAsync<Batch>(BatchPath(canvas, id), b => b.IsCompleted, timeout, ct);

    /// <summary>
    /// A page of the canvas's batches, newest first, optionally in one <paramref name="state"/> (open, running or
    /// completed): <paramref name="limit"/> 1-1000 (100 by default), <paramref name="cursor"/> from the previous page.
    /// </summary>
    public async Task<BatchPage> ListBatchesAsync(
        string canvas,
        string? state = null,
        int? limit = null,
        string? cursor = null,
        CancellationToken ct = default)
    {
        var (items, next) = await PageAsync<Batch>(
            WorkqTransport.Path("v1", "canvases", canvas, "batches") + QueryString([
                ("state", state),
                .. Paging(limit, cursor)]),
            ct);
        return new BatchPage(items, next);
    }

    /// <summary>
    /// Cancels the batch: its queued and scheduled events are cancelled, running ones finish; then onComplete fires
    /// with the counts and onSuccess does not. Returns the batch after the cancel; a completed batch is a 409.
    /// </summary>
    public Task<Batch> CancelBatchAsync(string canvas, Guid id, CancellationToken ct = default) =>
        transport.SendAsync<Batch>(HttpMethod.Delete, BatchPath(canvas, id), null, retry: false, ct);

    private static string BatchPath(string canvas, Guid id)
        => WorkqTransport.Path("v1", "canvases", canvas, "batches", id.ToString());

    // ---- Unhandled events ----

    public Task<IReadOnlyList<Unhandled>> ListUnhandledAsync(string canvas, CancellationToken ct = default) =>
        transport.SendAsync<IReadOnlyList<Unhandled>>(
            HttpMethod.Get,
            WorkqTransport.Path("v1", "canvases", canvas, "unhandled"),
            null,
            retry: true,
            ct);

    /// <summary>Drops the parked events of one unknown worker name.</summary>
    public Task DeleteUnhandledAsync(string canvas, string worker, CancellationToken ct = default) =>
        transport.SendAsync(
            HttpMethod.Delete,
            WorkqTransport.Path("v1", "canvases", canvas, "unhandled", worker),
            null,
            retry: false,
            ct);

    // ---- Crons ----

    /// <summary>
    /// Creates or replaces a cron: a five-field UTC schedule (a bad one is a 400) emitting <paramref name="value"/> to
    /// <paramref name="worker"/>.
    /// </summary>
    public Task PutCronAsync(
        string canvas,
        string name,
        string schedule,
        string worker,
        object? value = null,
        CancellationToken ct = default) =>
        transport.SendAsync(HttpMethod.Put, WorkqTransport.Path("v1", "canvases", canvas, "crons", name),
            WorkqTransport.Serialize(new { schedule, worker, @event = value }), retry: false, ct);

    public Task<IReadOnlyList<Cron>> ListCronsAsync(string canvas, CancellationToken ct = default) =>
        transport.SendAsync<IReadOnlyList<Cron>>(
            HttpMethod.Get,
            WorkqTransport.Path("v1", "canvases", canvas, "crons"),
            null,
            retry: true,
            ct);

    public Task DeleteCronAsync(string canvas, string name, CancellationToken ct = default) =>
        transport.SendAsync(
            HttpMethod.Delete,
            WorkqTransport.Path("v1", "canvases", canvas, "crons", name),
            null,
            retry: false,
            ct);

    private Task<Worker> PostWorkerAsync(
        string canvas,
        string worker,
        string action,
        byte[]? body,
        CancellationToken ct) =>
        transport.SendAsync<Worker>(HttpMethod.Post, WorkerPath(canvas, worker, action), body, retry: false, ct);

    private static string WorkerPath(string canvas, string worker, params string[] rest) =>
        WorkqTransport.Path(["v1", "canvases", canvas, "workers", worker, .. rest]);

    public void Dispose() => transport.Dispose();
}
