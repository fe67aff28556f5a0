namespace Workq.Emitter.Apis;

public sealed record BatchEmitResponse(IReadOnlyList<Guid> Ids);
