namespace Workq.Shared.Messaging;

/// <summary>
/// A queue's ready and consumer counts as its leader has them now (not the management API's lagging copy).
/// </summary>
public readonly record struct QueueReading(long Queued, long Consumers);
