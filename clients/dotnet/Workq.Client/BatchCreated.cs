namespace Workq.Client;

/// <summary>The 202 answer to a batch's creation: its id and its events' ids, in item order.</summary>
public sealed record BatchCreated(Guid BatchId, IReadOnlyList<Guid> Ids);
