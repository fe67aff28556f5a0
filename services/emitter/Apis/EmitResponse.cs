namespace Workq.Emitter.Apis;

public sealed record EmitResponse(Guid Id, DateTimeOffset EnqueuedAt);
