namespace Workq.Emitter.Apis;

public sealed record BatchClosedResponse(Guid BatchId);
