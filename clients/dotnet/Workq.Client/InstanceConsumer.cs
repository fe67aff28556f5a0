namespace Workq.Client;

/// <summary>
/// One queue an instance consumes: prefetch is the worker's concurrency; state is consuming or draining (cancelled,
/// finishing its events).
/// </summary>
public sealed record InstanceConsumer(string Canvas, string Worker, int Prefetch, int InFlight, string State);
