namespace Workq.Client;

/// <summary>
/// When an emitted event runs: after <c>Delay</c> or at <c>RunAt</c> (one of the two, up to 30 days ahead); neither
/// runs it now. With an <c>OrderingKey</c> (1 to 128 characters) it runs after the worker's earlier events with that
/// key, one at a time. With a <c>Debounce</c> it collapses with its key's emits into one run (no delay or time then).
/// A <c>Priority</c> other than normal places it before or after the worker's other waiting events.
/// </summary>
public sealed record EmitTiming(
    TimeSpan? Delay = null,
    DateTimeOffset? RunAt = null,
    string? OrderingKey = null,
    EmitDebounce? Debounce = null,
    EmitPriority Priority = EmitPriority.Normal);
