namespace Workq.Shared.Storage;

/// <summary>A worker's events in <c>scheduled_events</c>: delayed emits, sleeping and waiting durable events.</summary>
public readonly record struct ScheduledCounts(long Delayed, long Sleeping, long Waiting);
