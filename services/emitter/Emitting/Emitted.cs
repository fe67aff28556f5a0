namespace Workq.Emitter.Emitting;

public readonly record struct Emitted(Guid Id, DateTimeOffset EnqueuedAt);
