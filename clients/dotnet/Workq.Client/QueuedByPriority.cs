namespace Workq.Client;

/// <summary>A worker's queued events by priority (API.md "Priorities"); their sum is <c>Queued</c>.</summary>
public sealed record QueuedByPriority(long High, long Normal, long Low);
