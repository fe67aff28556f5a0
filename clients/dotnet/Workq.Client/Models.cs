using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Workq.Client;

// The shapes of docs/API.md, as the services send them (camelCase JSON).

/// <summary>
/// One event of a batch emit; without a key the client generates one, so a retry never enqueues it twice. With an
/// <c>OrderingKey</c> it runs after the worker's earlier events with that key, one at a time (API.md "Ordering keys").
/// </summary>
public sealed record EmitItem(
    string Worker,
    object? Event,
    string? IdempotencyKey = null,
    TimeSpan? Delay = null,
    DateTimeOffset? RunAt = null,
    string? OrderingKey = null);

/// <summary>
/// When an emitted event runs: after <c>Delay</c> or at <c>RunAt</c> (one of the two, up to 30 days ahead); neither
/// runs it now. With an <c>OrderingKey</c> (1 to 128 characters) it runs after the worker's earlier events with that
/// key, one at a time.
/// </summary>
public sealed record EmitTiming(TimeSpan? Delay = null, DateTimeOffset? RunAt = null, string? OrderingKey = null);

/// <summary>The 202 answer to a single emit.</summary>
public sealed record EmitAccepted(Guid Id, DateTimeOffset EnqueuedAt);

/// <summary>A canvas in <c>GET /v1/canvases</c>.</summary>
public sealed record Canvas(string Name, int Workers);

/// <summary>The 201 answer to creating a canvas: its token is shown this once.</summary>
public sealed record CreatedCanvas(string Name, string Token);

/// <summary>
/// Opt-in retry after a handler throws: re-run up to <c>MaxAttempts</c>, waiting <c>BackoffSeconds</c> between runs.
/// </summary>
public sealed record RetryPolicy(int MaxAttempts, IReadOnlyList<int>? BackoffSeconds = null);

/// <summary>At most <c>Events</c> handler runs per <c>PerSeconds</c> seconds, over every worker instance.</summary>
public sealed record RateLimit(int Events, double PerSeconds);

/// <summary>
/// <c>Queued</c>, <c>InFlight</c> and <c>Consumers</c> come from the broker; the rest are totals since the worker was
/// created.
/// </summary>
public sealed record WorkerStats(
    long Queued,
    long InFlight,
    long Processed,
    long Failed,
    long DeadLettered,
    long Consumers);

/// <summary>A worker; <c>Code</c> is only filled when one worker is read or deployed.</summary>
public sealed record Worker(
    string Canvas,
    string Name,
    int Version,
    string State,
    string? BlockedReason,
    int Concurrency,
    RetryPolicy? Retry,
    WorkerStats Stats,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Code = null,
    RateLimit? RateLimit = null);

/// <summary>
/// A worker's settings, for a PATCH or with a deploy: only what is set changes. <c>ClearRetry</c> removes the retry
/// policy (sends <c>"retry": null</c>), which a null <c>Retry</c> alone cannot say; <c>ClearRateLimit</c> likewise
/// removes the rate limit.
/// </summary>
public sealed record WorkerSettings(int? Concurrency = null, RetryPolicy? Retry = null, bool ClearRetry = false,
    RateLimit? RateLimit = null, bool ClearRateLimit = false);

/// <summary>One processed event: the last runs of a worker, newest first.</summary>
public sealed record Trace(
    Guid EventId,
    string Status,
    JsonNode? Event,
    JsonNode? Result,
    TraceError? Error,
    int Attempt,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    double QueueWaitMs,
    double DurationMs,
    IReadOnlyList<EmittedEvent> Emitted,
    IReadOnlyList<string> Logs,
    string? TraceId,
    string? Canvas = null,
    string? Worker = null,
    int? Version = null,
    int Depth = 0,
    string? OrderingKey = null);

public sealed record TraceError(string Type, string Message);

/// <summary>An event a handler emitted while it ran.</summary>
public sealed record EmittedEvent(string Worker, Guid Id);

public sealed record DeadLetter(Guid Id, JsonNode? Event, string Reason, int Attempts, DateTimeOffset DeadLetteredAt);

/// <summary>
/// Which dead letters a search, redrive or discard means; unset parts select everything. <c>Q</c>: a case-insensitive
/// substring of the reason (which holds the error) or the payload; <c>Reason</c>: how the reason starts (e.g. "delivery
/// limit", "retries exhausted"); <c>From</c> inclusive, <c>To</c> exclusive.
/// </summary>
public sealed record DeadLetterFilter(
    string? Q = null,
    string? Reason = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null);

/// <summary>One page of a dead-letter search, newest first; <c>NextCursor</c> is null on the last page.</summary>
public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, string? NextCursor);

/// <summary>Events emitted to a worker name that does not exist (yet), parked until it is created.</summary>
public sealed record Unhandled(
    string Worker,
    long Count,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    JsonNode? Sample,
    long Dropped = 0);

/// <summary>
/// Where an event id is known on a canvas (<see cref="WorkqControlClient.FindEventAsync"/>): every place it was found,
/// and a note on what is not searched (queued and running events; traces beyond the last 10 per worker).
/// </summary>
public sealed record EventLookup(Guid Id, IReadOnlyList<EventLocation> Found, string Note);

/// <summary>
/// One place an event was found: <c>Where</c> is trace, deadLetter, unhandled or cancelled, and only that place's
/// detail is set.
/// </summary>
public sealed record EventLocation(
    string Where,
    string Worker,
    Trace? Trace = null,
    DeadLetter? DeadLetter = null,
    ParkedEvent? Unhandled = null,
    DateTimeOffset? CancelledAt = null);

/// <summary>
/// An event's status (<see cref="WorkqControlClient.GetEventAsync"/>): <c>Status</c> is scheduled, queued, running,
/// completed, failed, timedOut, cancelled or deadLettered; the last five are null until known.
/// </summary>
public sealed record EventStatus(
    Guid Id,
    string Worker,
    string Status,
    int Attempts,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset? RunAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    JsonNode? Result,
    string? Error)
{
    /// <summary>
    /// Completed, failed, timed out, cancelled or dead-lettered: it will not change again (unless redriven).
    /// </summary>
    public bool IsFinished => Status is not ("scheduled" or "queued" or "running");
}

/// <summary>An event parked in the unhandled list because its worker did not exist.</summary>
public sealed record ParkedEvent(JsonNode? Event, DateTimeOffset EnqueuedAt, DateTimeOffset ReceivedAt);

/// <summary>
/// A live worker instance: its canvas filter (WORKQ_CANVASES, empty for every canvas) and consumers; runners are null
/// until runner processes exist.
/// </summary>
public sealed record WorkerInstance(
    Guid Id,
    string Host,
    int Pid,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    IReadOnlyList<string> Canvases,
    IReadOnlyList<InstanceConsumer> Consumers,
    JsonNode? Runners);

/// <summary>
/// One queue an instance consumes: prefetch is the worker's concurrency; state is consuming or draining (cancelled,
/// finishing its events).
/// </summary>
public sealed record InstanceConsumer(string Canvas, string Worker, int Prefetch, int InFlight, string State);

/// <summary>A five-field UTC cron schedule that emits <c>Event</c> to <c>Worker</c> on each tick.</summary>
public sealed record Cron(
    string Name,
    string Schedule,
    string Worker,
    JsonNode? Event,
    DateTimeOffset? LastRun,
    DateTimeOffset? NextRun);

/// <summary>A compile or forbidden-API error of a deploy, 1-based like a compiler's.</summary>
public sealed record CompileError(int Line, int Column, string Message);

internal sealed record BatchAccepted(IReadOnlyList<Guid> Ids);
internal sealed record PurgeResult(long Purged);
internal sealed record RedriveResult(long Redriven);
internal sealed record DiscardResult(long Discarded);
