namespace Workq.Emitter.Apis;

/// <summary>A batch's creation: its id and its events' ids, in the request's order.</summary>
public sealed record BatchCreatedResponse(Guid BatchId, IReadOnlyList<Guid> Ids);
