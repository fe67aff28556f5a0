namespace Workq.Tests.Infrastructure;

/// <summary>The 202 answer to a batch emit (Workq.Client keeps its own internal).</summary>
public sealed record AcceptedIds(IReadOnlyList<Guid> Ids);
