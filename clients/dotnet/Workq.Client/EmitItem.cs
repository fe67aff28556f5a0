namespace Workq.Client;

/// <summary>
/// One event of a batch emit; without a key the client generates one, so a retry never enqueues it twice. With an
/// <c>OrderingKey</c> it runs after the worker's earlier events with that key, one at a time (API.md "Ordering
/// keys"); a <c>Priority</c> places it among the worker's waiting events (API.md "Priorities").
/// </summary>
public sealed record EmitItem(
    string Worker,
    object? Event,
    string? IdempotencyKey = null,
    TimeSpan? Delay = null,
    DateTimeOffset? RunAt = null,
    string? OrderingKey = null,
    EmitPriority Priority = EmitPriority.Normal);
